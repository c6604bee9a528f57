/**
 * `npm run load`: a bounded load run against a Nestor server this script starts on 127.0.0.1
 * only. Reports throughput and p50/p95/p99 latency for detect and anonymize on a ~2 MP photo at
 * concurrency 1, 4 and 16, the 503s (load shedding), and the server's peak RSS.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawImage } from '@nestor/core';
import { createSharpCodec, resizedJpeg } from '@nestor/engine-node';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PHOTO = path.resolve(root, '../shared/eval/dev/images/face-0344.jpg');
const LEVELS = [1, 4, 16];
/** Requests per level: enough for percentiles, bounded so a run ends in minutes. */
const requestsFor = (concurrency: number) => Math.max(24, concurrency * 8);
const LEVEL_SECONDS = 90;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A ~2 MP JPEG: a dev-set photo when ../shared is there, else generated noise (no faces). */
async function photo(): Promise<Uint8Array> {
  if (existsSync(PHOTO)) return resizedJpeg(new Uint8Array(readFileSync(PHOTO)), 1632, 1224);
  const image: RawImage = { width: 1632, height: 1224, channels: 3, data: new Uint8Array(1632 * 1224 * 3) };
  for (let i = 0; i < image.data.length; i++) image.data[i] = (i * 7919 + (i >> 11) * 31) % 256;
  return createSharpCodec().encode(
    image,
    { format: 'jpeg', quality: 90, keepMetadata: false },
    { image, format: 'jpeg', source: new Uint8Array() },
  );
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

async function level(
  base: string,
  route: string,
  body: Uint8Array,
  concurrency: number,
  total = requestsFor(concurrency),
) {
  const latencies: number[] = [];
  let refused = 0;
  let failed = 0;
  let issued = 0;
  const deadline = performance.now() + LEVEL_SECONDS * 1000;
  const started = performance.now();
  const lane = async () => {
    while (issued < total && performance.now() < deadline) {
      issued++;
      const t = performance.now();
      const response = await fetch(`${base}${route}`, {
        method: 'POST',
        body: new Blob([new Uint8Array(body)]),
        headers: { 'content-type': 'image/jpeg' },
      });
      await response.arrayBuffer();
      if (response.status === 200) latencies.push(performance.now() - t);
      else if (response.status === 503) refused++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    route,
    concurrency,
    requests: issued,
    ok: latencies.length,
    refused503: refused,
    failed,
    perSecond: Math.round((latencies.length / seconds) * 100) / 100,
    p50: Math.round(percentile(latencies, 0.5)),
    p95: Math.round(percentile(latencies, 0.95)),
    p99: Math.round(percentile(latencies, 0.99)),
  };
}

async function main(): Promise<void> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server: ChildProcess = spawn(
    process.execPath,
    [path.join(root, 'apps/server/bin/nestor-server.js')],
    {
      cwd: root,
      env: { ...process.env, NESTOR_HOST: '127.0.0.1', NESTOR_PORT: String(port) },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  try {
    for (let i = 0; ; i++) {
      const ready = await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (i > 600) throw new Error('the server did not become ready in 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const body = await photo();
    console.log(`photo: 1632x1224 JPEG, ${Math.round(body.length / 1024)} KiB; server on ${base}`);
    const rows = [];
    for (const route of ['/v1/detect', '/v1/anonymize']) {
      // Warm-up: the first requests load models and fill caches.
      await level(base, route, body, 1, 2);
      for (const c of LEVELS) rows.push(await level(base, route, body, c));
    }
    console.log('route           conc  requests  ok  503  failed  req/s   p50 ms  p95 ms  p99 ms');
    for (const r of rows) {
      console.log(
        `${r.route.padEnd(15)} ${String(r.concurrency).padStart(4)}  ${String(r.requests).padStart(8)}  ${String(r.ok).padStart(2)}  ${String(r.refused503).padStart(3)}  ${String(r.failed).padStart(6)}  ${String(r.perSecond).padStart(5)}  ${String(r.p50).padStart(7)}  ${String(r.p95).padStart(6)}  ${String(r.p99).padStart(6)}`,
      );
    }
    console.log(`server peak RSS: ${peakRssMb(server.pid!)} MB`);
    console.log(JSON.stringify({ rows, peakRssMb: peakRssMb(server.pid!) }));
  } finally {
    server.kill('SIGTERM');
  }
}

await main();
