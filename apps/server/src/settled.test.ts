import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { onClose, onSettled } from './settled.ts';

/** An app whose one route answers how many 'close' listeners its response has. */
async function listenersApp(hooks: (app: FastifyInstance) => void): Promise<number> {
  const app = Fastify();
  hooks(app);
  app.get('/', async (_request, reply) => ({ close: reply.raw.listenerCount('close') }));
  try {
    return (await app.inject({ method: 'GET', url: '/' })).json<{ close: number }>().close;
  } finally {
    await app.close();
  }
}

describe('onClose and onSettled', () => {
  it('share one close listener per response, however many hooks wait for it', async () => {
    const bare = await listenersApp(() => {});
    const settled: number[] = [];
    const hooked = await listenersApp((app) => {
      for (let i = 0; i < 3; i++) onSettled(app, () => void settled.push(i));
      app.addHook('onRequest', async (_request, reply) => {
        onClose(reply, () => {});
        onClose(reply, () => {});
      });
    });
    expect(hooked - bare).toBe(1);
    expect(settled.sort()).toEqual([0, 1, 2]);
  });
});
