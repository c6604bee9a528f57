// A pool worker for tests: answers at once with its thread id and how many requests it has still
// running, waits 300 ms for a 3-byte image, throws for a 1-byte image, works on a 4-byte image
// until cancelled (then ends 50 ms later, as a last inference run would), and with
// workerData.dieAtStart never comes up.
import { parentPort, threadId, workerData } from 'node:worker_threads';

if (workerData.config.dieAtStart) throw new Error('this worker cannot start');
const running = new Set();
parentPort.on('message', (request) => {
  if (request.task === 'cancel') {
    if (!running.has(request.id)) return;
    setTimeout(() => {
      running.delete(request.id);
      parentPort.postMessage({ id: request.id, ok: false, code: 'E_INTERNAL', message: 'cancelled' });
    }, 50);
    return;
  }
  if (request.bytes?.length === 1) throw new Error('worker crashed on purpose');
  if (request.bytes?.length === 4) {
    running.add(request.id);
    return;
  }
  const answer = () =>
    parentPort.postMessage({
      id: request.id,
      ok: true,
      task: request.task,
      ...(request.task === 'detect' ? { result: { threadId, running: running.size } } : {}),
    });
  if (request.bytes?.length === 3) setTimeout(answer, 300);
  else answer();
});
