/** The on-device pipeline. */

/** Browser image I/O. */
export { CanvasCodec, type CanvasCodecOptions, keepMetadataUnsupported } from './canvas-codec.ts';
export { type ImageSize, readImageSize } from './image-size.ts';
/** onnxruntime-web inference. */
export { OnnxWebEngine, type OnnxWebEngineOptions, sha256Hex } from './onnx-web-engine.ts';
export {
  chooseBackend,
  directoryUrl,
  loadOrt,
  ORT_ENTRY,
  ORT_RUNTIME_FILES,
  type OrtModule,
  threadCount,
  type WebBackend,
} from './ort.ts';
export {
  blobBytes,
  createWebNestor,
  WebNestor,
  type WebNestorOptions,
  webNestorConfig,
  webNestorDeps,
} from './web-nestor.ts';
