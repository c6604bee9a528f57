/** libheif-js's browser build: a factory for the module (its wasm inlined); typed as `LibHeif` by the caller. */
declare module 'libheif-js/libheif-wasm/libheif-bundle.mjs' {
  const factory: () => unknown;
  export default factory;
}
