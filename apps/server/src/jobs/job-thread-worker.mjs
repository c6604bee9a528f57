// Entry of the in-process job thread: registers the TypeScript loader, then runs job-thread-worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./job-thread-worker.ts');
