/** onnxruntime-node inference. */

/** Benchmark helpers (codec floor). */
export { resizedJpeg, timeDecodeEncode, uprightJpeg } from './bench-support.ts';
/** nestor-ai-config.json loading (file + environment, validated once). */
export { CONFIG_FILE_NAME, findConfigFile, type LoadedConfig, loadConfig } from './config-file.ts';
/** A ready-to-use pipeline for Node. */
export { createNodeNestor } from './nestor.ts';
export { createNodeEngine, type NodeEngineOptions } from './onnx-engine.ts';
/** sharp decoding and encoding. */
export { createSharpCodec } from './sharp-codec.ts';
