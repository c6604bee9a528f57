/** onnxruntime-node inference. */
export { createNodeEngine, type NodeEngineOptions } from './onnx-engine.ts';
/** sharp decoding and encoding. */
export { createSharpCodec } from './sharp-codec.ts';
