// One onnxruntime-node session in a worker thread (plain JS: workers load it without a TS loader).
// Protocol: see worker-protocol.ts.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const port = parentPort;
if (!port) throw new Error('ort-worker must run in a worker thread');
/** @type {ort.InferenceSession | undefined} */
let session;

port.on('message', (request) => {
  handle(request).then(
    (response) => {
      const transfer =
        response.type === 'result' ? Object.values(response.outputs).map((o) => o.data.buffer) : [];
      port.postMessage(response, transfer);
    },
    (error) => {
      const id = request.type === 'run' ? request.id : undefined;
      port.postMessage({
        type: 'error',
        id,
        message: error instanceof Error ? error.message : String(error),
      });
    },
  );
});

async function handle(request) {
  switch (request.type) {
    case 'load':
      session = await ort.InferenceSession.create(request.bytes, {
        logSeverityLevel: 3,
        intraOpNumThreads: request.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        // Several sessions share the cores: threads that spin while idle would steal them.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      return { type: 'loaded' };
    case 'run': {
      if (!session) throw new Error('model not loaded');
      const feeds = {};
      for (const [name, t] of Object.entries(request.feeds))
        feeds[name] = new ort.Tensor('float32', t.data, t.dims);
      const results = await session.run(feeds);
      const outputs = {};
      for (const [name, t] of Object.entries(results)) {
        // A copy the main thread can own: onnxruntime may reuse its buffers.
        outputs[name] = { data: new Float32Array(t.data), dims: [...t.dims] };
      }
      return { type: 'result', id: request.id, outputs };
    }
    case 'release':
      await session?.release();
      session = undefined;
      return { type: 'released' };
    default:
      throw new Error(`unknown request ${String(request.type)}`);
  }
}
