import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareDetections, defaultConfig, type Nestor } from '@nestor/core';
import { createNodeNestor } from '@nestor/engine-node';
import { DEFAULT_MODELS_DIR } from '@nestor/models';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserSession, CHROMIUM, HAS_CHROMIUM, openBrowserSession } from '../bin/browser-session.ts';
import { readImageSize } from './image-size.ts';
import { noisyPng } from './test-support.ts';

const DEV = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/eval/dev/images');
const HAS_DEV = existsSync(DEV);
/** iPhone-style HEICs (HEVC) of colour blocks, made by engine-node's fixtures/make-heic.mjs. */
const heic = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../engine-node/fixtures/${name}.heic`, import.meta.url)));
/** A small photo with 3 faces, a plate photo, and a 4.7 MP photo with 6 faces (both codecs add a quarter copy). */
// plate-0228: a plate only the vehicle search finds (CenterNet in the browser too).
const DEV_PHOTOS = ['face-0003.jpg', 'plate-0002.jpg', 'plate-0228.jpg', 'face-0438.jpg'];
if (!HAS_CHROMIUM) console.warn(`skipping the browser tests: ${CHROMIUM} is missing`);
if (!HAS_DEV) console.warn(`skipping the dev-set browser comparisons: ${DEV} is absent`);

/** A PNG whose header claims 20000x20000 pixels, with no pixel data behind it. */
function hugePngHeader(): Uint8Array {
  const bytes = new Uint8Array(33);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  new DataView(bytes.buffer).setUint32(16, 20000);
  new DataView(bytes.buffer).setUint32(20, 20000);
  bytes.set([8, 2, 0, 0, 0], 24);
  return bytes;
}

describe.skipIf(!HAS_CHROMIUM)('createWebNestor in Chromium (onnxruntime-web + CanvasCodec)', () => {
  const config = defaultConfig();
  let node: Nestor;
  let session: BrowserSession;
  beforeAll(async () => {
    node = createNodeNestor(config, DEFAULT_MODELS_DIR);
    session = await openBrowserSession({ nestor: node, config, probe: await noisyPng(160, 120) });
  });
  afterAll(async () => {
    await session?.close();
    await node?.dispose();
  });

  it('runs on WebAssembly in a cross-origin-isolated page (as the web app is): threads for half the cores', () => {
    expect(session.info.engine).toBe('onnxruntime-web/wasm');
    expect(session.info.crossOriginIsolated).toBe(true);
    expect(session.info.threads).toBe(Math.max(1, Math.min(4, Math.ceil(os.availableParallelism() / 2))));
  });

  it.skipIf(!HAS_DEV).each(DEV_PHOTOS)(
    '%s: decoded by the browser, the same detections as the server engine (same count, within 2 px)',
    async (file) => {
      const bytes = new Uint8Array(await readFile(path.join(DEV, file)));
      const [a, b] = [await node.detect(bytes), await session.detect(bytes)];
      expect(b.image).toEqual(a.image);
      expect(b.engine).toBe('onnxruntime-web/wasm');
      const diff = compareDetections(a, b, { tolerancePx: 2 });
      expect(a.detections.length).toBeGreaterThan(0);
      expect(diff.unmatchedA).toEqual([]);
      expect(diff.unmatchedB).toEqual([]);
      expect(diff.maxDeltaPx).toBeLessThanOrEqual(2);
      expect(diff.agree).toBe(true);
    },
  );

  it('anonymizes on device: EXIF orientation applied, manual region redacted, no metadata out', async () => {
    // 120x80 stored, orientation 6: upright it is 80x120.
    const input = new Uint8Array(
      await sharp(await noisyPng(120, 80))
        .withMetadata({ orientation: 6 })
        .withExif({ IFD0: { Copyright: 'secret' } })
        .jpeg({ quality: 95 })
        .toBuffer(),
    );
    const out = await session.anonymize(input, {
      addRegions: [{ label: 'face', x: 10, y: 20, width: 40, height: 50 }],
      format: 'png',
    });
    expect(out.mimeType).toBe('image/png');
    expect(out.result.image).toEqual({ width: 80, height: 120, format: 'jpeg' });
    const meta = await sharp(out.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 80, 120]);
    expect(meta.exif).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
    const upright = await sharp(input).rotate().removeAlpha().raw().toBuffer();
    const after = await sharp(out.bytes).removeAlpha().raw().toBuffer();
    const at = (buffer: Buffer, x: number, y: number) =>
      buffer.subarray((y * 80 + x) * 3, (y * 80 + x) * 3 + 3);
    let changedInside = 0;
    for (let y = 20; y < 70; y++)
      for (let x = 10; x < 50; x++) if (!at(upright, x, y).equals(at(after, x, y))) changedInside++;
    expect(changedInside).toBeGreaterThan(0.5 * 40 * 50);
  });

  it('encodes JPEG and WebP, and refuses what it cannot do with typed errors', async () => {
    const png = await noisyPng(64, 48);
    expect((await session.detectBlob(png)).image).toEqual({ width: 64, height: 48, format: 'png' });
    for (const format of ['jpeg', 'webp'] as const) {
      const out = await session.anonymize(png, { format, quality: 80 });
      expect((await sharp(out.bytes).metadata()).format).toBe(format);
    }
    const truncated = new Uint8Array(await sharp(png).jpeg().toBuffer()).subarray(0, 200);
    const cases = [
      { bytes: new Uint8Array(0), options: {}, want: 'E_EMPTY_INPUT' },
      { bytes: new TextEncoder().encode('not an image at all'), options: {}, want: 'E_UNSUPPORTED_MEDIA' },
      { bytes: truncated, options: {}, want: 'E_DECODE' },
      { bytes: hugePngHeader(), options: {}, want: 'E_TOO_MANY_PIXELS' },
      { bytes: png, options: { keepMetadata: true }, want: 'E_INVALID_OPTION' },
      { bytes: png, options: { format: 'avif' as const }, want: 'E_ENCODE' },
    ];
    for (const c of cases)
      expect(await session.errorCode('anonymize', c.bytes, c.options), c.want).toBe(c.want);
  });

  it.each(['blocks-irot90', 'blocks-p3'])(
    'reads the HEIC %s as the server does (upright, Display P3 turned into sRGB), though Chromium has no HEVC decoder',
    async (name) => {
      const bytes = heic(name);
      // The stored size, before the irot turn: what the limits are checked on.
      expect(readImageSize(bytes, 'heic')).toEqual({ width: 96, height: 64 });
      const options = { format: 'png' as const };
      const [device, server] = [
        await session.anonymize(bytes, options),
        await node.anonymize(bytes, options),
      ];
      expect(device.result.image).toEqual(server.result.image);
      const raw = async (png: Uint8Array) =>
        sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const [d, s] = [await raw(device.bytes), await raw(server.bytes)];
      expect(d.info).toEqual(s.info);
      let worst = 0;
      for (let i = 0; i < d.data.length; i++) worst = Math.max(worst, Math.abs(d.data[i]! - s.data[i]!));
      // Skia and lcms round the P3 conversion differently; unconverted P3 would be 49 off in green.
      expect(worst).toBeLessThanOrEqual(4);
    },
  );

  it('made only GETs of the page, the models and the runtime: no image left the browser', async () => {
    const allowed =
      /^\/(harness\/(index\.html|harness\.js)|models\/[a-z0-9-]+\.onnx|ort\/[a-z.-]+\.(mjs|wasm))$/;
    for (const list of [session.browserRequests, session.serverRequests]) {
      expect(list.length).toBeGreaterThan(0);
      for (const r of list) {
        expect(r.method, r.path).toBe('GET');
        expect(r.path).toMatch(allowed);
        expect(r.bodyBytes, r.path).toBe(0);
      }
    }
    const resources = await session.pageResources();
    expect(resources.length).toBeGreaterThan(0);
    for (const url of resources) expect(new URL(url).pathname).toMatch(allowed);
    expect(session.serverRequests.some((r) => r.path.startsWith('/models/'))).toBe(true);
    expect(session.serverRequests.some((r) => r.path === '/ort/ort-wasm-simd-threaded.wasm')).toBe(true);
  });
});
