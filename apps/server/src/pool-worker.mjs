// Entry of a pipeline worker thread: registers the TypeScript loader, then runs pool-worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./pool-worker.ts');
