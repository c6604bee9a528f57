import type { Config } from '@nestor/core';
import { createNodeNestor, createSharpCodec } from '@nestor/engine-node';
import { DEFAULT_MODELS_DIR } from '@nestor/models';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.ts';
import type { JobLog } from './log.ts';
import type { JobStatus } from './types.ts';

/** A JPEG of noise (no faces, no text). */
export async function noiseJpeg(): Promise<Uint8Array> {
  const image = { width: 96, height: 64, channels: 3 as const, data: new Uint8Array(96 * 64 * 3) };
  for (let i = 0; i < image.data.length; i++) image.data[i] = (i * 7919) % 251;
  return createSharpCodec().encode(
    image,
    { format: 'jpeg', quality: 80, keepMetadata: false },
    { image, format: 'jpeg', source: new Uint8Array() },
  );
}

/** The app with the queue the config asks for, listening on a free loopback port. */
export async function startApp(config: Config): Promise<{ app: FastifyInstance; url: string }> {
  const nestor = createNodeNestor(config, DEFAULT_MODELS_DIR);
  const app = buildApp({ nestor, config });
  app.addHook('onClose', () => nestor.dispose());
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}

/** POST /v1/jobs with files (field "file") and option fields. */
export async function submit(
  url: string,
  files: { name: string; bytes: Uint8Array }[],
  fields: Record<string, string> = {},
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const f of files) form.append('file', new Blob([new Uint8Array(f.bytes)]), f.name);
  return fetch(`${url}/v1/jobs`, { method: 'POST', body: form });
}

/** Polls a job until `done` says so. */
export async function waitFor(url: string, id: string, done: (s: JobStatus) => boolean, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = (await (await fetch(`${url}/v1/jobs/${id}`)).json()) as JobStatus;
    if (done(status)) return status;
    if (Date.now() > until) throw new Error(`job ${id} still ${status.state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An `ftyp` box: its size, the major brand, a minor version of 0, then the compatible brands. */
export function ftyp(major: string, ...compatible: string[]): Uint8Array {
  const box = Buffer.alloc(16 + 4 * compatible.length);
  box.writeUInt32BE(box.length, 0);
  box.write(`ftyp${major}`, 4, 'latin1');
  compatible.forEach((brand, i) => {
    box.write(brand, 16 + 4 * i, 'latin1');
  });
  return box;
}

/** A job log that keeps what it is given. */
export function recordingLog(): {
  log: JobLog;
  entries: { fields: Record<string, unknown>; message: string }[];
} {
  const entries: { fields: Record<string, unknown>; message: string }[] = [];
  return { log: { error: (fields, message) => void entries.push({ fields, message }) }, entries };
}
