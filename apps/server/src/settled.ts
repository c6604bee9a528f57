import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** What waits for each response's 'close', behind one listener per response. */
const closeWaiters = new WeakMap<ServerResponse, (() => void)[]>();

/**
 * Runs `callback` when the response closes (answer written, or client gone: check
 * `writableFinished`). Every hook shares one 'close' listener per response, so Node's limit of
 * ten listeners is left to fastify, Next.js and stream pipes.
 */
export function onClose(reply: FastifyReply, callback: () => void): void {
  let waiters = closeWaiters.get(reply.raw);
  if (!waiters) {
    const list: (() => void)[] = [];
    waiters = list;
    closeWaiters.set(reply.raw, list);
    reply.raw.once('close', () => {
      for (const waiter of list) waiter();
    });
  }
  waiters.push(callback);
}

/**
 * Calls `handler` once for every request, with its final status: after the answer is written
 * (onResponse), or, when the client left before that, once the status of its answer or of its
 * abort (400 E_BAD_REQUEST) is set — onResponse never runs for such a request; `clientLeft` then
 * says that the answer did not reach the client. Register it before the routes.
 * @example onSettled(app, (request, reply) => metrics.request(request.method, reply.statusCode))
 */
export function onSettled(
  app: FastifyInstance,
  handler: (request: FastifyRequest, reply: FastifyReply, clientLeft: boolean) => void,
): void {
  /** Requests whose status is final (onSend ran), those whose client left first, and those reported. */
  const answered = new WeakSet<FastifyRequest>();
  const abandoned = new WeakSet<FastifyRequest>();
  const reported = new WeakSet<FastifyRequest>();
  const report = (request: FastifyRequest, reply: FastifyReply, clientLeft: boolean) => {
    if (reported.has(request)) return;
    reported.add(request);
    handler(request, reply, clientLeft);
  };
  app.addHook('onRequest', async (request, reply) => {
    onClose(reply, () => {
      if (reply.raw.writableFinished) return;
      // The client left: an answer on its way is final; otherwise the abort's status comes later.
      if (answered.has(request)) report(request, reply, true);
      else abandoned.add(request);
    });
  });
  app.addHook('onSend', async (request, reply, payload) => {
    answered.add(request);
    if (abandoned.has(request)) report(request, reply, true);
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => report(request, reply, false));
}
