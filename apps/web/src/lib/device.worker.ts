/** The on-device engine's Web Worker: decoding, inference and encoding off the page's thread. */
import { serveWebNestor, type WorkerHostScope } from '@nestor/engine-web/worker-host';

serveWebNestor(globalThis as unknown as WorkerHostScope);
