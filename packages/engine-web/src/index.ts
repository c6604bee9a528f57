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
  startWebEngine,
  type WebEngineStart,
  WebNestor,
  type WebNestorOptions,
  webNestorConfig,
  webNestorDeps,
} from './web-nestor.ts';
/** The pipeline in a Web Worker: the worker's side and the page's. */
export { type WorkerCallOptions, type WorkerEndpoint, WorkerNestor } from './worker-client.ts';
export { serveWebNestor, type WorkerHostParts, type WorkerHostScope } from './worker-host.ts';
export type { WorkerEngineInfo, WorkerStartOptions } from './worker-protocol.ts';
