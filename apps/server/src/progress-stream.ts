import { PassThrough } from 'node:stream';
import { atMostEvery, type Progress, type ProgressStage } from '@nestor/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The media type of a processing answer streamed with its progress. */
export const NDJSON = 'application/x-ndjson';

/** Progress lines go out at most this often; a stage's first report always does. */
const LINE_EVERY_MS = 100;

/** Whether the client asked for the answer as NDJSON with its progress (`Accept: application/x-ndjson`). */
export function wantsProgress(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '')
    .split(',')
    .some((type) => type.split(';')[0]!.trim().toLowerCase() === NDJSON);
}

/**
 * Answers a processing request as NDJSON: `{"progress":{…}}` lines as the work goes (at most every
 * 100 ms, and the last one always), then one `{"result":{…}}` line, or `{"status":503,"error":{…}}`
 * for a failure after the answer began. The answer begins (200) only once the image is decoded:
 * until then a failure (an unreadable image, a full queue) is thrown, for the usual HTTP error answer.
 * @param run starts the work, reporting to `onProgress`
 * @param finish the result line's value (the same body a plain answer has)
 * @param failure an error after the answer began as its status and body (logged and counted there)
 */
export async function streamProgress<T>(
  reply: FastifyReply,
  run: (onProgress: (progress: Progress) => void) => Promise<T>,
  finish: (out: T) => unknown,
  failure: (thrown: unknown) => { readonly status: number; readonly body: object },
): Promise<FastifyReply> {
  const lines = new PassThrough();
  const line = (value: unknown) => `${JSON.stringify(value)}\n`;
  let decoded: () => void = () => {};
  const begun = new Promise<'begun'>((resolve) => {
    decoded = () => resolve('begun');
  });
  const send = atMostEvery(LINE_EVERY_MS, (progress: Progress) => lines.write(line({ progress })));
  let stage: ProgressStage | undefined;
  // The last report, while it has not been sent: it goes out before the result.
  let unsent: Progress | undefined;
  const work = run((progress) => {
    if (progress.stage === 'decode') return;
    decoded();
    unsent = send(progress, progress.stage !== stage) ? undefined : progress;
    stage = progress.stage;
  });
  // A failure before the image is decoded rejects here, and is answered as any error is.
  await Promise.race([begun, work]);
  // A failure of `finish` (recording the result) ends the answer as the work's own would.
  work.then(finish).then(
    (result) => {
      if (unsent) lines.write(line({ progress: unsent }));
      lines.end(line({ result }));
    },
    (thrown: unknown) => {
      const { status, body } = failure(thrown);
      lines.end(line({ status, ...body }));
    },
  );
  return reply.type(NDJSON).send(lines);
}
