import { readFile } from 'node:fs/promises';
import AxeBuilder from '@axe-core/playwright';
import { unzipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEV_IMAGES,
  type Harness,
  hasChromium,
  hasDevSet,
  MOBILE,
  newPage,
  photo,
  screenshot,
  shownImageHash,
  startHarness,
} from './harness.ts';
import { PAGES } from './pages.ts';

if (!hasChromium) console.warn('web e2e skipped: /usr/bin/chromium is missing (apt-get install chromium)');
if (!hasDevSet) console.warn('web e2e: ../shared/eval/dev is missing, using a generated photo without faces');

let harness: Harness;

/** Axe with the WCAG 2.0/2.1 A and AA rules; every violation listed on failure. */
async function expectAccessible(page: Page, state: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const summary = violations.map(
    (v) => `${state}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  expect(summary).toEqual([]);
}

/** Uploads through the file picker and waits for the selected photo's result. */
async function upload(page: Page, file: Awaited<ReturnType<typeof photo>>): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(file);
  await page.getByTestId('counts').or(page.getByTestId('error')).first().waitFor({ timeout: 90_000 });
  expect(await page.getByTestId('error').count()).toBe(0);
}

/**
 * A 12 MP photo of noise (no dev set needed): long enough to process that it is still running
 * when a test removes it.
 */
async function largePhoto(name: string): Promise<Awaited<ReturnType<typeof photo>>> {
  // As photo() does: sharp is the server's dependency, loaded when a test needs it.
  const { default: sharp } = await import('sharp');
  const buffer = await sharp({
    create: {
      width: 4000,
      height: 3000,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
  return { name, mimeType: 'image/jpeg', buffer };
}

const count = async (page: Page, label: 'face' | 'plate') =>
  Number(await page.getByTestId(`count-${label}`).getAttribute('data-count'));

/** A new page of the studio (English) with "On this device" chosen. */
async function studioOnDevice(): Promise<Awaited<ReturnType<typeof newPage>>> {
  const opened = await newPage(harness.browser);
  await opened.page.goto(`${harness.baseUrl}/en/`);
  await opened.page.getByRole('heading', { level: 1 }).waitFor();
  await opened.page.getByText('On this device', { exact: true }).click();
  return opened;
}

/** Waits until "On this device" has fetched and loaded its models (the options panel says so). */
const modelsLoaded = (page: Page) =>
  expect
    .poll(() => page.getByTestId('device-status').textContent(), { timeout: 60_000 })
    .toBe('The models are loaded in this browser.');

describe.skipIf(!hasChromium)('web app end to end (chromium + the real server)', () => {
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('/ redirects by Accept-Language; the language picker switches page and language', async () => {
    const { context, page } = await newPage(harness.browser, undefined, 'de-DE');
    await page.goto(`${harness.baseUrl}/`);
    expect(new URL(page.url()).pathname).toBe('/de/');
    expect(await page.locator('html').getAttribute('lang')).toBe('de');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Fotos anonymisieren');
    await page.getByRole('link', { name: /Français/ }).click();
    await page.waitForURL(/\/fr\/$/);
    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'Anonymiser des photos',
    );
    // The choice is remembered for the next visit to /.
    await page.goto(`${harness.baseUrl}/`);
    expect(new URL(page.url()).pathname).toBe('/fr/');
    await context.close();
  });

  it('every page (en, desktop and 375 px), the studio in each locale and the 404 page have no axe violations', async () => {
    const visits = [
      ...PAGES.flatMap((path) => [undefined, MOBILE].map((viewport) => ({ locale: 'en', path, viewport }))),
      ...['fr', 'de', 'it'].map((locale) => ({ locale, path: '', viewport: undefined })),
    ];
    for (const viewport of [undefined, MOBILE]) {
      const { context, page } = await newPage(harness.browser, viewport);
      for (const visit of visits.filter((v) => v.viewport === viewport)) {
        await page.goto(`${harness.baseUrl}/${visit.locale}/${visit.path}`);
        await page.getByRole('heading', { level: 1 }).first().waitFor();
        await page.waitForLoadState('networkidle');
        await expectAccessible(page, `/${visit.locale}/${visit.path} ${viewport ? 'mobile' : 'desktop'}`);
      }
      if (viewport) {
        await page.goto(`${harness.baseUrl}/en/`);
        await screenshot(page, 'empty-mobile');
      } else {
        await page.goto(`${harness.baseUrl}/en/nothing-here/`);
        await expectAccessible(page, '404');
      }
      await context.close();
    }
  });

  it('a real photo is anonymized on the server: result, counts, timings; detect draws the overlay', async () => {
    const { context, page } = await newPage(harness.browser);
    await page.goto(`${harness.baseUrl}/en/`);
    await screenshot(page, 'empty-desktop');
    await upload(page, await photo('face-0003.jpg'));
    if (hasDevSet) expect(await count(page, 'face')).toBeGreaterThanOrEqual(2);
    await page.getByTestId('anonymized-image').waitFor();
    // With the original showing on the left half, a right-click or drag there still takes the anonymized image.
    await page.getByLabel(/^Before \/ after/).fill('50');
    const hit = await page.getByTestId('anonymized-image').evaluate((img) => {
      img.scrollIntoView({ block: 'center' });
      const box = img.getBoundingClientRect();
      return document
        .elementFromPoint(box.left + box.width / 4, box.top + box.height / 2)
        ?.getAttribute('data-testid');
    });
    expect(hit).toBe('anonymized-image');
    expect(await page.getByTestId('timings').textContent()).toMatch(
      /Decode.*Detect.*Redact.*Encode.*Network.*Total/,
    );
    await screenshot(page, 'anonymized-desktop');
    await expectAccessible(page, 'result');

    // Detect mode: the original with the boxes drawn over it.
    await page.getByText('Only detect', { exact: true }).click();
    await page.getByRole('button', { name: 'Run again with these options' }).click();
    await page.getByTestId('detection-overlay').waitFor({ timeout: 60_000 });
    const faces = await count(page, 'face');
    expect(await page.getByTestId('detection-box').count()).toBe(faces + (await count(page, 'plate')));
    if (hasDevSet) expect(await page.getByTestId('detection-overlay').textContent()).toMatch(/Face \d+ %/);
    await screenshot(page, 'detect-desktop');
    await expectAccessible(page, 'detect');
    await context.close();
  });

  it.skipIf(!hasDevSet)(
    'an animated GIF: counts, a frame slider with that frame’s boxes, a frame fixed by hand, a clear format error',
    async () => {
      const { default: sharp } = await import('sharp');
      const face = await readFile(`${DEV_IMAGES}/face-0007.jpg`);
      const crop = await sharp(face).extract({ left: 80, top: 60, width: 160, height: 200 }).png().toBuffer();
      // The face on frames 1 and 3 only, so the slider must change which boxes are drawn.
      const frame = (withFace: boolean) =>
        sharp({ create: { width: 400, height: 240, channels: 3, background: '#707070' } })
          .composite(withFace ? [{ input: crop, left: 100, top: 20 }] : [])
          .png()
          .toBuffer();
      const pngs = await Promise.all([true, false, true].map(frame));
      const gif = await sharp(pngs, { join: { animated: true } })
        .gif({ delay: [300, 300, 300], loop: 0 })
        .toBuffer();
      const { context, page } = await newPage(harness.browser);
      await page.goto(`${harness.baseUrl}/en/`);
      await upload(page, { name: 'walk.gif', mimeType: 'image/gif', buffer: gif });
      expect(await count(page, 'face')).toBeGreaterThanOrEqual(1);
      expect(await page.getByTestId('frames-summary').textContent()).toMatch(/Animated image: 3 frames/);
      expect(await page.getByRole('button', { name: 'Review regions' }).isDisabled()).toBe(true);

      await page.getByText('Only detect', { exact: true }).click();
      await page.getByRole('button', { name: 'Run again with these options' }).click();
      await page.getByTestId('frame-picker').waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('frame-label').textContent()).toBe('Boxes of frame 1 of 3');
      expect(await page.getByTestId('detection-box').count()).toBeGreaterThanOrEqual(1);
      await page.getByTestId('frame-picker').fill('2');
      expect(await page.getByTestId('frame-label').textContent()).toBe('Boxes of frame 2 of 3');
      await expectAccessible(page, 'animated detect');

      // Fixing a frame: a face drawn on frame 2 (300 ms) is covered around it, and counted.
      const faces = await count(page, 'face');
      await page.getByTestId('fix-pick').fill('2');
      expect(await page.getByText(/^Frame to fix: 2 of 3/).count()).toBe(1);
      await page.getByTestId('fix-frame').click();
      await page.getByTestId('review-stage').waitFor();
      await page.getByRole('button', { name: 'Add a face' }).click();
      await page.getByRole('button', { name: /^Keep these regions/ }).click();
      const cover = page.getByTestId('fix').and(page.locator('[data-kind=cover]'));
      expect(await cover.getByTestId('fix-fromMs').inputValue()).toBe('0');
      expect(await cover.getByTestId('fix-toMs').inputValue()).toBe('0.9');
      await expectAccessible(page, 'animated fixes');
      await page.getByTestId('fix-rerun').click();
      await expect.poll(() => count(page, 'face'), { timeout: 60_000 }).toBe(faces + 1);
      await screenshot(page, 'animation-fixes-desktop');

      await page.getByText('Anonymize', { exact: true }).click();
      await page.getByLabel('Output format').selectOption('jpeg');
      await page.getByRole('button', { name: 'Run again with these options' }).click();
      await page.getByTestId('error').waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('error').textContent()).toBe(
        'This image is animated (3 frames): choose Same as input, GIF or WebP as the output format.',
      );
      await context.close();
    },
  );

  it('adding and removing a region in review changes the output image', async () => {
    const { context, page } = await newPage(harness.browser);
    await page.goto(`${harness.baseUrl}/en/`);
    await upload(page, await photo('face-0003.jpg'));
    const before = await count(page, 'face');
    const first = await shownImageHash(page);

    await page.getByRole('button', { name: 'Review regions' }).click();
    await page.getByRole('button', { name: 'Add a face' }).click();
    // Keyboard only: move the new region (focused by Tab order, it is the last one) and enlarge it.
    const added = page.getByRole('button', { name: /added by hand/ }).last();
    await added.focus();
    await added.press('ArrowLeft');
    await added.press('Alt+ArrowRight');
    await screenshot(page, 'review-desktop');
    await expectAccessible(page, 'review');
    await page.getByRole('button', { name: /Apply and re-render/ }).click();
    await page.getByTestId('anonymized-image').waitFor({ timeout: 60_000 });
    await expect.poll(() => count(page, 'face'), { timeout: 60_000 }).toBe(before + 1);
    const second = await shownImageHash(page);
    expect(second).not.toBe(first);

    await page.getByRole('button', { name: 'Review regions' }).click();
    await page
      .getByRole('button', { name: /added by hand/ })
      .last()
      .focus();
    await page.keyboard.press('Delete');
    const byHand = page.getByRole('button', { name: /added by hand/ });
    expect(await byHand.count()).toBe(0);
    // The focus stays in the editor (on the next region, or Add a face when none is left: without
    // ../shared the photo has no detected face), so Ctrl+Z undoes the removal; so does Undo.
    expect(
      await page.evaluate(
        () =>
          document.activeElement?.closest('section')?.querySelector('[data-testid="review-stage"]') != null,
      ),
    ).toBe(true);
    await page.keyboard.press('Control+z');
    expect(await byHand.count()).toBe(1);
    await byHand.focus();
    await page.keyboard.press('Delete');
    expect(await byHand.count()).toBe(0);
    await page.getByRole('button', { name: 'Undo' }).click();
    expect(await byHand.count()).toBe(1);
    await byHand.focus();
    await page.keyboard.press('Delete');
    await page.getByRole('button', { name: /Apply and re-render/ }).click();
    await expect.poll(() => count(page, 'face'), { timeout: 60_000 }).toBe(before);
    await page.getByTestId('anonymized-image').waitFor();
    const third = await shownImageHash(page);
    expect(third).not.toBe(second);
    await context.close();
  });

  it('a batch: several files at once, a translated error for a non-image, a ZIP of the results', async () => {
    const { context, page } = await newPage(harness.browser);
    await page.goto(`${harness.baseUrl}/en/`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    const notAnImage = {
      name: 'notes.jpg',
      mimeType: 'image/jpeg',
      buffer: Buffer.from('not an image at all'),
    };
    const photos = [await photo('face-0003.jpg'), await photo('face-0006.jpg')];
    await page.getByTestId('file-input').setInputFiles([...photos, notAnImage]);
    await expect
      .poll(() => page.getByText(/^(Faces: \d+, Plates: \d+|Failed)$/).count(), { timeout: 90_000 })
      .toBe(3);
    await page.getByRole('button', { name: /notes\.jpg/ }).click();
    expect(await page.getByTestId('error').textContent()).toBe(
      'This is not an image Nestor can read. Use JPEG, PNG, WebP, AVIF, HEIC, TIFF or GIF.',
    );
    await screenshot(page, 'batch-error-desktop');
    await expectAccessible(page, 'error');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download all as ZIP (2)' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('nestor-anonymized.zip');
    const files = unzipSync(new Uint8Array(await readFile(await download.path())));
    expect(Object.keys(files).sort()).toEqual(['face-0003.anonymized.jpg', 'face-0006.anonymized.jpg']);
    for (const bytes of Object.values(files)) expect([...bytes.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    await context.close();
  });

  it('object URLs die with their photo, also one removed while the server works on it, whose upload is stopped', async () => {
    const { context, page } = await newPage(harness.browser);
    await page.addInitScript(() => {
      const live = new Set<string>();
      const create = URL.createObjectURL.bind(URL);
      const revoke = URL.revokeObjectURL.bind(URL);
      URL.createObjectURL = (blob: Blob | MediaSource) => {
        const url = create(blob);
        live.add(url);
        return url;
      };
      URL.revokeObjectURL = (url: string) => {
        live.delete(url);
        revoke(url);
      };
      Object.assign(window, { liveUrls: () => live.size });
    });
    const liveUrls = () => page.evaluate(() => (window as unknown as { liveUrls: () => number }).liveUrls());
    await page.goto(`${harness.baseUrl}/en/`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    const sent = page.waitForRequest((r) => r.url().endsWith('/v1/anonymize'));
    await page.getByTestId('file-input').setInputFiles(await largePhoto('large.jpg'));
    const request = await sent;
    const stopped = page.waitForEvent('requestfailed', (r) => r === request);
    await page.getByRole('button', { name: 'Remove', exact: true }).click();
    expect((await stopped).failure()?.errorText).toBe('net::ERR_ABORTED');
    // A second photo's whole run ends after the first one's answer is handled.
    await upload(page, await photo('face-0006.jpg'));
    expect(await liveUrls()).toBe(2);
    await page.getByRole('button', { name: 'Remove all' }).click();
    expect(await liveUrls()).toBe(0);
    await context.close();
  });

  it('on the server: a thorough run of a large photo shows the progress the server streams', async () => {
    const { context, page } = await newPage(harness.browser);
    await page.goto(`${harness.baseUrl}/en/`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.getByLabel('Effort').selectOption('thorough');
    const sent = page.waitForRequest((r) => r.url().endsWith('/v1/anonymize'));
    await page.getByTestId('file-input').setInputFiles(await largePhoto('large.jpg'));
    expect((await sent).headers().accept).toContain('application/x-ndjson');
    const text = page.getByTestId('run-progress-text');
    // Thousands of runs: the numbers are grouped as the locale writes them (1,965).
    await expect
      .poll(() => text.textContent(), { timeout: 60_000 })
      .toMatch(/^Looking for faces and plates: model run [\d,]+ of [\d,]+$/);
    const bar = page.getByTestId('run-progress');
    const value = async () => Number(await bar.getAttribute('value'));
    const first = await value();
    await expect.poll(value, { timeout: 60_000 }).toBeGreaterThan(first);
    expect(await page.getByTestId('processing').textContent()).toBe('Processing on the server…');
    // Half a minute of work: removing the photo stops it.
    await page.getByRole('button', { name: 'Remove', exact: true }).click();
    expect(await bar.count()).toBe(0);
    expect(await page.getByTestId('error').count()).toBe(0);
    await context.close();
  });

  it('on this device: same count as the server, and no image leaves the browser', async () => {
    const { context, page } = await newPage(harness.browser);
    const requests: { method: string; path: string }[] = [];
    await page.goto(`${harness.baseUrl}/en/`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    const file = await photo('face-0003.jpg');
    await upload(page, file);
    const server = { face: await count(page, 'face'), plate: await count(page, 'plate') };

    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol.startsWith('http')) requests.push({ method: request.method(), path: url.pathname });
    });
    await page.getByRole('button', { name: 'Remove all' }).click();
    await page.getByText('On this device', { exact: true }).click();
    // The browser writes no metadata and only JPEG, PNG and WebP: the form says so.
    const keepMetadata = page.getByRole('checkbox', { name: /^Keep metadata/ });
    expect(await keepMetadata.isDisabled()).toBe(true);
    expect(await keepMetadata.isChecked()).toBe(false);
    expect(
      await page.getByText('Not available on this device: the browser writes pixels only.').count(),
    ).toBe(1);
    expect(await page.getByLabel('Output format').locator('option').allTextContents()).toEqual([
      'Same as input',
      'JPEG',
      'PNG',
      'WEBP',
    ]);
    await upload(page, file);
    await modelsLoaded(page);
    expect({ face: await count(page, 'face'), plate: await count(page, 'plate') }).toEqual(server);
    expect(await page.getByTestId('timings').textContent()).toContain('none (on this device)');
    await screenshot(page, 'device-desktop');
    expect(requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(
      requests.filter((r) => !/^\/(models|ort|_next|en)\//.test(r.path) && r.path !== '/v1/app-config'),
    ).toEqual([]);
    expect(requests.some((r) => r.path.startsWith('/models/'))).toBe(true);
    // The engine runs in a worker: the page itself fetched neither onnxruntime nor a model.
    const fetched = (): string[] =>
      performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname);
    expect((await page.evaluate(fetched)).filter((path) => /^\/(models|ort)\//.test(path))).toEqual([]);
    const workers = page.workers();
    expect(workers).toHaveLength(1);
    const inWorker = await workers[0]!.evaluate(fetched);
    expect(inWorker.some((path) => path.startsWith('/models/'))).toBe(true);
    expect(inWorker.some((path) => path.startsWith('/ort/'))).toBe(true);
    expect(await workers[0]!.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    await context.close();
  });

  it('on this device: an iPhone HEIC (turned by its irot box) is read in the worker and written upright as JPEG', async () => {
    const { context, page } = await studioOnDevice();
    const heic = await readFile(
      new URL('../../../../packages/engine-node/fixtures/blocks-irot90.heic', import.meta.url),
    );
    await upload(page, { name: 'IMG_0001.HEIC', mimeType: 'image/heic', buffer: heic });
    const shown = page.getByTestId('anonymized-image');
    await expect
      .poll(() => shown.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]))
      .toEqual([64, 96]);
    const type = await shown.evaluate(
      async (img: HTMLImageElement) => (await (await fetch(img.src)).blob()).type,
    );
    expect(type).toBe('image/jpeg');
    await context.close();
  });

  it('on this device: a large photo shows its progress, stage and model runs, until its result', async () => {
    const { context, page } = await studioOnDevice();
    await modelsLoaded(page);
    await page.getByTestId('file-input').setInputFiles(await largePhoto('large.jpg'));
    const text = page.getByTestId('run-progress-text');
    await expect
      .poll(() => text.textContent(), { timeout: 60_000 })
      .toMatch(/^Looking for faces and plates: model run \d+ of \d+$/);
    // The models were loaded before the photo came: no word of loading them.
    expect(await page.getByTestId('processing').textContent()).toBe('Processing on this device…');
    const bar = page.getByTestId('run-progress');
    const value = async () => Number(await bar.getAttribute('value'));
    const first = await value();
    await expect.poll(value, { timeout: 60_000 }).toBeGreaterThan(first);
    const [runs, planned] = (await text.textContent())!.match(/\d+/g)!.map(Number);
    expect(runs).toBeLessThanOrEqual(planned!);
    // Its name is the text it describes.
    expect(await page.getByRole('progressbar', { name: /^Looking for faces and plates/ }).count()).toBe(1);
    await expect
      .poll(() => page.getByTestId('announcer').textContent(), { timeout: 120_000 })
      .toMatch(/^large\.jpg done: /);
    expect(await bar.count()).toBe(0);
    await context.close();
  });

  it('on this device: a photo removed while it runs is stopped without an error, and the next one runs', async () => {
    const { context, page } = await studioOnDevice();
    await modelsLoaded(page);
    await page.getByTestId('file-input').setInputFiles(await largePhoto('large.jpg'));
    await expect.poll(() => page.getByTestId('announcer').textContent()).toBe('Processing large.jpg…');
    await page.getByRole('button', { name: 'Remove', exact: true }).click();
    await upload(page, await photo('face-0003.jpg'));
    expect(await page.getByTestId('error').count()).toBe(0);
    expect(await page.getByTestId('announcer').textContent()).toMatch(/^face-0003\.jpg done: /);
    await context.close();
  });

  it('compare runs both engines and reports agreement and both timings', async () => {
    const { context, page } = await newPage(harness.browser);
    await page.goto(`${harness.baseUrl}/en/`);
    await upload(page, await photo('face-0003.jpg'));
    await page.getByRole('button', { name: 'Compare both engines' }).click();
    const verdict = page.getByTestId('compare-verdict');
    await verdict.waitFor({ timeout: 90_000 });
    expect(await verdict.getAttribute('data-agree')).toBe('true');
    expect(await page.getByTestId('compare').textContent()).toMatch(/onnxruntime-node.*onnxruntime-web/s);
    await screenshot(page, 'compare-desktop');
    await expectAccessible(page, 'compare');
    await context.close();
  });

  it('is usable at 375 px: upload, result and review fit the width', async () => {
    const { context, page } = await newPage(harness.browser, MOBILE);
    await page.goto(`${harness.baseUrl}/fr/`);
    await upload(page, await photo('face-0003.jpg'));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'anonymized-mobile');
    await expectAccessible(page, 'mobile result');
    await page.getByRole('button', { name: 'Vérifier les zones' }).click();
    await screenshot(page, 'review-mobile');
    await expectAccessible(page, 'mobile review');
    await context.close();
  });
});
