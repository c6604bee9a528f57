// A pool worker for tests: answers at once with its thread id, waits 300 ms for a 3-byte image,
// throws for a 1-byte image, and with workerData.dieAtStart never comes up.
import { parentPort, threadId, workerData } from 'node:worker_threads';

if (workerData.config.dieAtStart) throw new Error('this worker cannot start');
parentPort.on('message', (request) => {
  if (request.bytes?.length === 1) throw new Error('worker crashed on purpose');
  const answer = () =>
    parentPort.postMessage({
      id: request.id,
      ok: true,
      task: request.task,
      ...(request.task === 'detect' ? { result: { threadId } } : {}),
    });
  if (request.bytes?.length === 3) setTimeout(answer, 300);
  else answer();
});
