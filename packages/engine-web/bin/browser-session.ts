/**
 * Runs the on-device engine in a real Chromium (Debian's /usr/bin/chromium, headless) against the
 * Nestor server's asset routes, for the browser test and `compare-engines.ts`. Images reach the page
 * through the DevTools protocol, never over HTTP, so every request the page makes can be checked.
 */
import { fileURLToPath } from 'node:url';
import type { AnonymizeResult, Config, DetectionResult, Pipeline, ProcessOptions } from '@nestor/core';
import { buildApp } from '@nestor/server';
import { build } from 'esbuild';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import type { WebNestorOptions } from '../src/web-nestor.ts';
import { launchChromium } from './chromium.ts';

export { CHROMIUM, HAS_CHROMIUM } from './chromium.ts';

/** One request the page made, as the browser and as the server saw it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** Bytes of request body (0 for a GET). */
  readonly bodyBytes: number;
}

export interface BrowserSession {
  readonly url: string;
  readonly page: Page;
  /** Requests seen by the browser (Playwright) and by the server (fastify hook). */
  readonly browserRequests: RecordedRequest[];
  readonly serverRequests: RecordedRequest[];
  /** Resource-timing entries the page itself recorded (every URL it fetched or imported). */
  pageResources(): Promise<string[]>;
  /** Page state after start: engine name, cross-origin isolation, ORT threads. */
  readonly info: { engine: string; crossOriginIsolated: boolean; threads: number };
  detect(bytes: Uint8Array, options?: ProcessOptions): Promise<DetectionResult>;
  /** The same, handing the page's pipeline a Blob (as from a file input). */
  detectBlob(bytes: Uint8Array, options?: ProcessOptions): Promise<DetectionResult>;
  anonymize(
    bytes: Uint8Array,
    options?: ProcessOptions,
  ): Promise<Omit<AnonymizeResult, 'bytes'> & { bytes: Uint8Array }>;
  /** Runs `detect` in the page and returns only the error code it threw (undefined when none). */
  errorCode(
    call: 'detect' | 'anonymize',
    bytes: Uint8Array,
    options?: ProcessOptions,
  ): Promise<string | undefined>;
  close(): Promise<void>;
}

const HARNESS_ENTRY = `
import { createWebNestor, threadCount } from '@nestor/engine-web';
let nestor;
const bytesOf = (base64) => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
const base64Of = (bytes) => {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};
globalThis.nestorHarness = {
  async start(options) {
    nestor = await createWebNestor(options);
    await nestor.warmUp();
    const probe = await nestor.detect(bytesOf(options.probe));
    return { engine: probe.engine, crossOriginIsolated: globalThis.crossOriginIsolated === true, threads: threadCount(options.config?.engine?.threads ?? 0) };
  },
  detect: (base64, options) => nestor.detect(bytesOf(base64), options),
  detectBlob: (base64, options) => nestor.detect(new Blob([bytesOf(base64)]), options),
  async anonymize(base64, options) {
    const out = await nestor.anonymize(bytesOf(base64), options);
    return { format: out.format, mimeType: out.mimeType, result: out.result, base64: base64Of(out.bytes) };
  },
  async errorCode(call, base64, options) {
    try {
      await nestor[call](bytesOf(base64), options);
      return undefined;
    } catch (error) {
      return error && error.code ? error.code : String(error);
    }
  },
};
`;

const HARNESS_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>engine-web harness</title><link rel="icon" href="data:,">
<script type="module" src="/harness/harness.js"></script></head><body></body></html>`;

/** Bundles the harness (createWebNestor and all it imports, onnxruntime-web excepted) with esbuild. */
export async function bundleHarness(): Promise<string> {
  const result = await build({
    stdin: {
      contents: HARNESS_ENTRY,
      resolveDir: fileURLToPath(new URL('.', import.meta.url)),
      sourcefile: 'harness.js',
      loader: 'js',
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  });
  return result.outputFiles[0]!.text;
}

/**
 * Starts the Nestor server app (buildApp: the real asset routes) on 127.0.0.1 with a harness page,
 * opens it in Chromium and creates the web pipeline there. `isolated` sends COOP/COEP, as the web
 * app's pages do, so onnxruntime-web may use threads.
 */
export async function openBrowserSession(options: {
  readonly nestor: Pipeline;
  readonly config: Config;
  readonly isolated?: boolean;
  readonly web?: Omit<WebNestorOptions, 'assetsBaseUrl'>;
  /** An image decoded once by start() (it loads every model); small is fine. */
  readonly probe: Uint8Array;
  /** Receives the page's console messages and each request (for diagnosis). */
  readonly log?: (line: string) => void;
}): Promise<BrowserSession> {
  const script = await bundleHarness();
  const serverRequests: RecordedRequest[] = [];
  const browserRequests: RecordedRequest[] = [];
  const app: FastifyInstance = buildApp({ nestor: options.nestor, config: options.config });
  app.addHook('onRequest', async (request) => {
    serverRequests.push({
      method: request.method,
      path: request.url.split('?')[0]!,
      bodyBytes: Number(request.headers['content-length'] ?? 0),
    });
  });
  const isolation = (reply: { header(name: string, value: string): unknown }) => {
    if (options.isolated ?? true) {
      reply.header('cross-origin-opener-policy', 'same-origin');
      reply.header('cross-origin-embedder-policy', 'require-corp');
    }
  };
  const harnessRoute = { config: { role: 'public' }, schema: { hide: true } } as const;
  app.get('/harness/index.html', harnessRoute, async (_request, reply) => {
    isolation(reply);
    return reply.type('text/html; charset=utf-8').send(HARNESS_PAGE);
  });
  app.get('/harness/harness.js', harnessRoute, async (_request, reply) => {
    isolation(reply);
    return reply.type('text/javascript; charset=utf-8').send(script);
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await browser.newPage();
    page.on('console', (message) => options.log?.(`console.${message.type()}: ${message.text()}`));
    page.on('request', (request) => {
      options.log?.(`${request.method()} ${request.url()}`);
      browserRequests.push({
        method: request.method(),
        path: new URL(request.url()).pathname,
        bodyBytes: request.postDataBuffer()?.length ?? 0,
      });
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${url}/harness/index.html`);
    await page.waitForFunction(() => 'nestorHarness' in globalThis);
    const started = await page.evaluate(
      ([web, probe]) =>
        (
          globalThis as unknown as {
            nestorHarness: {
              start(o: unknown): Promise<{ engine: string; crossOriginIsolated: boolean; threads: number }>;
            };
          }
        ).nestorHarness.start({ ...web, assetsBaseUrl: '/', probe }),
      [options.web ?? {}, toBase64(options.probe)] as const,
    );
    if (pageErrors.length > 0) throw new Error(`the harness page failed: ${pageErrors.join('; ')}`);
    const call = <T>(name: string, ...args: unknown[]) =>
      page.evaluate(
        ([n, a]) =>
          (globalThis as unknown as { nestorHarness: Record<string, (...x: unknown[]) => Promise<unknown>> })
            .nestorHarness[n as string]!(...(a as unknown[])),
        [name, args] as const,
      ) as Promise<T>;
    const openBrowser = browser;
    return {
      url,
      page,
      browserRequests,
      serverRequests,
      info: started,
      pageResources: () => page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name)),
      detect: (bytes, o = {}) => call<DetectionResult>('detect', toBase64(bytes), o),
      detectBlob: (bytes, o = {}) => call<DetectionResult>('detectBlob', toBase64(bytes), o),
      async anonymize(bytes, o = {}) {
        const out = await call<Omit<AnonymizeResult, 'bytes'> & { base64: string }>(
          'anonymize',
          toBase64(bytes),
          o,
        );
        const { base64, ...rest } = out;
        return { ...rest, bytes: new Uint8Array(Buffer.from(base64, 'base64')) };
      },
      errorCode: (name, bytes, o = {}) => call<string | undefined>('errorCode', name, toBase64(bytes), o),
      async close() {
        await openBrowser.close();
        await app.close();
      },
    };
  } catch (error) {
    await browser?.close();
    await app.close();
    throw error;
  }
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
}
