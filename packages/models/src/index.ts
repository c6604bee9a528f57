/** Model manifest: every model's source, licence, sha256, input and decoding. */
export { findModel, MODELS } from './manifest.ts';
/** Verification and placement of model files (`npm run models`). */
export {
  DEFAULT_MODELS_DIR,
  type PrepareResult,
  packageDir,
  prepareModel,
  prepareModels,
  sha256,
} from './prepare.ts';
