import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { defaultConfig, type Nestor } from '@nestor/core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createNodeNestor } from '../../../../packages/engine-node/src/index.ts';
import { launchChromium } from '../../../../packages/engine-web/bin/chromium.ts';
import { DEFAULT_MODELS_DIR } from '../../../../packages/models/src/index.ts';
import { buildApp } from '../../../server/src/app.ts';
import { ensureWebBuild } from '../build/ensure-build.ts';

export {
  CHROMIUM,
  CHROMIUM_ARGS,
  HAS_CHROMIUM as hasChromium,
} from '../../../../packages/engine-web/bin/chromium.ts';
export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
export const SCREENSHOTS = `${REPO}.cache/screenshots`;
/** Labelled photos beside the repository (skipped tests say so when absent). */
export const DEV_IMAGES = `${REPO}../shared/eval/dev/images`;
export const hasDevSet = existsSync(`${DEV_IMAGES}/face-0003.jpg`);

export interface Harness {
  readonly baseUrl: string;
  readonly browser: Browser;
  close(): Promise<void>;
}

/** Builds the app (unless fresh), starts the real server on a free loopback port, launches chromium. */
export async function startHarness(): Promise<Harness> {
  await ensureWebBuild((line) => process.stderr.write(`e2e: ${line}\n`));
  await mkdir(SCREENSHOTS, { recursive: true });
  const config = defaultConfig();
  const nestor: Nestor = createNodeNestor(config, DEFAULT_MODELS_DIR);
  const app = buildApp({ nestor, config });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchChromium();
  await waitReady(baseUrl);
  return {
    baseUrl,
    browser,
    async close() {
      await browser.close();
      await app.close();
      await nestor.dispose();
    },
  };
}

async function waitReady(baseUrl: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const res = await fetch(`${baseUrl}/readyz`);
    if (res.ok) return;
    const body = (await res.json()) as { status: string };
    if (body.status === 'failed') throw new Error(`server not ready: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server not ready after 60 s');
}

export const DESKTOP = { width: 1280, height: 900 } as const;
export const MOBILE = { width: 375, height: 812 } as const;

export async function newPage(
  browser: Browser,
  viewport: { width: number; height: number } = DESKTOP,
  locale = 'en-US',
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, locale, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on('pageerror', (error) => process.stderr.write(`page error: ${error.message}\n`));
  return { context, page };
}

/** Full-page PNG under .cache/screenshots (test artefacts to look at). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

/** A photo from the dev set, or a generated pattern (no face) when the dev set is absent. */
export async function photo(name: string): Promise<{ name: string; mimeType: string; buffer: Buffer }> {
  if (hasDevSet) return { name, mimeType: 'image/jpeg', buffer: await readFile(`${DEV_IMAGES}/${name}`) };
  const { default: sharp } = await import('sharp');
  // A checkerboard, so that a redacted region visibly changes the pixels.
  const width = 320;
  const height = 240;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++)
      pixels.fill(((x >> 3) + (y >> 3)) % 2 ? 230 : 40, (y * width + x) * 3, (y * width + x + 1) * 3);
  }
  const buffer = await sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg()
    .toBuffer();
  return { name, mimeType: 'image/jpeg', buffer };
}

/** sha-256 of the anonymized image the page shows (read back from its blob: URL). */
export function shownImageHash(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const img = document.querySelector<HTMLImageElement>('[data-testid=anonymized-image]');
    if (!img) throw new Error('no anonymized image');
    const bytes = await (await fetch(img.src)).arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', bytes);
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  });
}
