import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Timing } from './timing.ts';

/** A request as the test server saw it. */
export interface Seen {
  readonly method: string;
  readonly path: string;
  readonly bytes: number;
}

/** Answers request number `n` (0-based); throwing or not answering is up to the test. */
export type Handler = (request: IncomingMessage, response: ServerResponse, n: number) => void;

/** A real HTTP server on 127.0.0.1 that answers with `handler` and records what it received. */
export async function testServer(
  handler: Handler,
): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const n = seen.length;
      seen.push({
        method: request.method ?? '',
        path: request.url ?? '',
        bytes: chunks.reduce((sum, c) => sum + c.length, 0),
      });
      handler(request, response, n);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

/** Sends `body` as JSON with `status` and extra headers. */
export function answer(
  response: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(text);
}

/** A Nestor error answer. */
export function nestorAnswer(
  response: ServerResponse,
  status: number,
  code: string,
  headers: Record<string, string> = {},
): void {
  answer(response, status, { error: { code, message: `${code} from the test` } }, headers);
}

/** Ends the connection without an answer: a network failure for the client. */
export function hangUp(request: IncomingMessage): void {
  request.socket.destroy();
}

/**
 * Timing that waits for nothing and records each sleep; `now` is fixed at `nowMs`, `random` returns
 * `random`. A sleep on an aborted signal still rejects with its reason, as the real one does.
 */
export function fakeTiming(
  nowMs = Date.UTC(2025, 0, 1),
  random = 0.5,
): Timing & { readonly sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    sleep: (ms, signal) => {
      sleeps.push(ms);
      return signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve();
    },
    now: () => nowMs,
    random: () => random,
  };
}
