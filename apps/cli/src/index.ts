/** The nestor CLI as a function (for tests and embedding). */

/** Detection metrics identical to shared/tools/eval.mjs. */
export { coveredShare, scoreDetections } from './eval-metrics.ts';
export { EXIT, type Io, main } from './main.ts';
