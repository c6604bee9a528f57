import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, hasChromium, MOBILE, newPage, REPO, screenshot, startHarness } from './harness.ts';

const HAS_FFMPEG =
  spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0 &&
  spawnSync('ffprobe', ['-version'], { stdio: 'ignore' }).status === 0;
/** MIT-licensed sample photo of @vladmandic/human (installed with the models); its top row has faces. */
const FACES_PHOTO = `${REPO}node_modules/@vladmandic/human/assets/samples.jpg`;
const hasFacesPhoto = existsSync(FACES_PHOTO);

if (!hasChromium)
  console.warn('web video e2e skipped: /usr/bin/chromium is missing (apt-get install chromium)');
if (!HAS_FFMPEG) console.warn('web video e2e skipped: ffmpeg/ffprobe are missing (apt-get install ffmpeg)');
if (!hasFacesPhoto) console.warn('web video e2e: @vladmandic/human is not installed, the clip has no faces');

let harness: Harness;
let dir: string;
let clip: string;
let longClip: string;

function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

/** Frames of the first video stream, counted by decoding (`ffprobe -count_frames`). */
function frameCount(file: string): number {
  const out = execFileSync('ffprobe', [
    ...['-v', 'error', '-count_frames', '-select_streams', 'v:0'],
    ...['-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file],
  ]);
  return Number(out.toString().trim());
}

const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac'];

async function expectAccessible(page: Page, state: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  expect(
    violations.map(
      (v) => `${state}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    ),
  ).toEqual([]);
}

/** Opens the video page, picks the file, starts; resolves once the result or an error shows. */
async function process(page: Page, file: string): Promise<void> {
  await page.getByTestId('video-input').setInputFiles(file);
  await page.getByTestId('start').click();
  await page.getByTestId('video-summary').or(page.getByTestId('error')).first().waitFor({ timeout: 120_000 });
}

describe.skipIf(!hasChromium || !HAS_FFMPEG)('video page end to end (chromium + the real server)', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'nestor-web-video-'));
    clip = path.join(dir, 'street.mp4');
    // 2 s at 25 fps with a tone: the faces of the sample photo's top row, or a test pattern.
    const picture = hasFacesPhoto
      ? ['-loop', '1', '-framerate', '25', '-i', FACES_PHOTO]
      : ['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25'];
    const crop = hasFacesPhoto ? 'crop=370:158:166:0,scale=740:316,' : '';
    ffmpeg([
      ...picture,
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:duration=2'],
      ...['-filter_complex', `[0:v]${crop}format=yuv420p,trim=duration=2[v]`, '-map', '[v]', '-map', '1:a'],
      ...['-t', '2', ...x264, clip],
    ]);
    longClip = path.join(dir, 'long.mp4');
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25:duration=30'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:duration=30'],
      ...x264,
      longClip,
    ]);
    harness = await startHarness();
  }, 240_000);
  afterAll(async () => {
    await harness?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a clip is uploaded, processed with progress, summarized, previewed and downloaded', async () => {
    const { context, page } = await newPage(harness.browser);
    await page.goto(`${harness.baseUrl}/en/video/`);
    await page.getByRole('heading', { level: 1, name: 'Anonymize a video' }).waitFor();
    expect(await page.getByRole('link', { name: 'Video', exact: true }).getAttribute('aria-current')).toBe(
      'page',
    );
    await page.waitForLoadState('networkidle');
    await screenshot(page, 'video-empty-desktop');
    await expectAccessible(page, 'video empty');

    await page.getByLabel('Method').selectOption('pixelate');
    const announced: string[] = [];
    await page.exposeFunction('recordAnnouncement', (text: string) => announced.push(text));
    await page.evaluate(() => {
      const region = document.querySelector('[data-testid=video-announcer]');
      if (!region) throw new Error('no live region');
      const record = (window as unknown as { recordAnnouncement: (text: string) => void }).recordAnnouncement;
      new MutationObserver(() => record(region.textContent ?? '')).observe(region, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    await process(page, clip);
    expect(await page.getByTestId('error').count()).toBe(0);
    expect(announced.some((text) => /^(Uploading|Processing|Waiting)/.test(text))).toBe(true);

    const frames = frameCount(clip);
    expect(Number(await page.getByTestId('video-summary').getAttribute('data-frames'))).toBe(frames);
    expect(await page.getByTestId('summary-frames').textContent()).toBe(String(frames));
    const faces = Number(await page.getByTestId('summary-face').getAttribute('data-count'));
    if (hasFacesPhoto) expect(faces).toBeGreaterThanOrEqual(2);
    expect(Number(await page.getByTestId('video-summary').getAttribute('data-tracks'))).toBe(
      faces + Number(await page.getByTestId('summary-plate').getAttribute('data-count')),
    );

    // The preview plays from a blob: URL (the server has already deleted the job).
    const preview = await page.getByTestId('result-video').evaluate(async (video: HTMLVideoElement) => {
      if (video.readyState < 1) {
        await new Promise<void>((resolve, reject) => {
          video.addEventListener('loadedmetadata', () => resolve(), { once: true });
          video.addEventListener('error', () => reject(new Error(`media error ${video.error?.code}`)), {
            once: true,
          });
        });
      }
      return { src: video.currentSrc, duration: video.duration, width: video.videoWidth };
    });
    expect(preview.src).toMatch(/^blob:/);
    expect(preview.duration).toBeCloseTo(2, 0);
    expect(preview.width).toBe(hasFacesPhoto ? 740 : 320);
    await screenshot(page, 'video-done-desktop');
    await expectAccessible(page, 'video done');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the video' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('street.anonymized.mp4');
    expect(frameCount(await download.path())).toBe(frames);
    const [json] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the detections (JSON)' }).click(),
    ]);
    expect(json.suggestedFilename()).toBe('street.detections.json');
    const detections = JSON.parse(await readFile(await json.path(), 'utf8')) as { video: { frames: number } };
    expect(detections.video.frames).toBe(frames);
    await context.close();
  });

  it('fixing a frame by hand: a drawn face is covered for its span, a removed one dropped, on the next run', async () => {
    const { context, page } = await newPage(harness.browser);
    await page.goto(`${harness.baseUrl}/en/video/`);
    await process(page, clip);
    const tracksBefore = Number(await page.getByTestId('video-summary').getAttribute('data-tracks'));
    await page.getByTestId('fix-frame').and(page.locator(':enabled')).waitFor();
    await page.getByTestId('result-video').evaluate(async (video: HTMLVideoElement) => {
      const seeked = new Promise((resolve) => video.addEventListener('seeked', resolve, { once: true }));
      video.currentTime = 0.5;
      await seeked;
    });
    await page.getByTestId('fix-frame').click();
    await page.getByTestId('review-stage').waitFor();
    // The frame's followed regions open in the editor; removing one drops its whole track.
    const found = page.locator('[data-region^="track-"]');
    const detected = await found.count();
    if (hasFacesPhoto) expect(detected).toBeGreaterThanOrEqual(2);
    if (detected > 0) {
      await found.first().focus();
      await page.keyboard.press('Delete');
    }
    await page.getByRole('button', { name: 'Add a face' }).click();
    await expectAccessible(page, 'video fix editor');
    await page.getByRole('button', { name: /^Keep these regions/ }).click();

    const rows = page.getByTestId('fix');
    await expect.poll(() => rows.count()).toBe(detected > 0 ? 2 : 1);
    const cover = rows.and(page.locator('[data-kind=cover]'));
    // Drawn at 0.5 s: covered from the start (a second before, within the video) to 1.5 s, cut to 1 s here.
    expect(await cover.getByTestId('fix-fromMs').inputValue()).toBe('0');
    expect(await cover.getByTestId('fix-toMs').inputValue()).toBe('1.5');
    await cover.getByTestId('fix-toMs').fill('1');
    await expectAccessible(page, 'video fixes');
    await screenshot(page, 'video-fixes-desktop');
    // The same corrections as the CLI's --regions file.
    const [saved] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: /^Download the corrections/ }).click(),
    ]);
    expect(saved.suggestedFilename()).toBe('street.corrections.json');
    const corrections = JSON.parse(await readFile(await saved.path(), 'utf8')) as {
      addRegions: unknown[];
      suppress: unknown[];
    };
    expect(corrections.addRegions).toEqual([
      expect.objectContaining({ label: 'face', fromMs: 0, toMs: 1000 }),
    ]);
    expect(corrections.suppress.length > 0).toBe(detected > 0);

    // The fields the page puts in the next upload (a multipart body with a file is not readable from here).
    await page.evaluate(() => {
      const fields: [string, string][] = [];
      (window as unknown as { sentFields: typeof fields }).sentFields = fields;
      const append = FormData.prototype.append as (
        this: FormData,
        name: string,
        value: string | Blob,
        file?: string,
      ) => void;
      FormData.prototype.append = function (
        this: FormData,
        name: string,
        value: string | Blob,
        file?: string,
      ) {
        if (typeof value === 'string') fields.push([name, value]);
        // Three arguments would make a string a Blob: pass the name of a file only with one.
        if (file === undefined) append.call(this, name, value);
        else append.call(this, name, value, file);
      };
    });
    await page.getByTestId('fix-rerun').click();
    const sent = new Map(
      await page.evaluate(() => (window as unknown as { sentFields: [string, string][] }).sentFields),
    );
    const addRegions = JSON.parse(sent.get('addRegions') ?? '[]') as unknown[];
    expect(addRegions).toEqual([expect.objectContaining({ label: 'face', fromMs: 0, toMs: 1000 })]);
    expect(sent.has('suppress')).toBe(detected > 0);
    await page.getByTestId('video-summary').waitFor({ timeout: 120_000 });

    const [json] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the detections (JSON)' }).click(),
    ]);
    const result = JSON.parse(await readFile(await json.path(), 'utf8')) as {
      frames: { timeMs: number; detections: { source: string }[] }[];
      tracks: unknown[];
    };
    const manual = result.frames.filter((f) => f.detections.some((d) => d.source === 'manual'));
    expect(manual.length).toBeGreaterThan(0);
    expect(Math.max(...manual.map((f) => f.timeMs))).toBeLessThanOrEqual(1000);
    expect(result.tracks).toHaveLength(detected > 0 ? tracksBefore - 1 : tracksBefore);
    // The corrections stay for the next run of the same video, and a later one joins them.
    expect(await rows.count()).toBe(detected > 0 ? 2 : 1);
    await page.getByTestId('fix-frame').and(page.locator(':enabled')).waitFor();
    await page.getByTestId('fix-frame').click();
    await page.getByTestId('review-stage').waitFor();
    await page.getByRole('button', { name: 'Add a face' }).click();
    await page.getByRole('button', { name: /^Keep these regions/ }).click();
    await expect.poll(() => rows.count()).toBe(detected > 0 ? 3 : 2);
    await context.close();
  });

  it('cancel deletes the job on the server', async () => {
    const { context, page } = await newPage(harness.browser);
    await page.goto(`${harness.baseUrl}/en/video/`);
    await page.getByTestId('video-input').setInputFiles(longClip);
    await page.getByTestId('start').click();
    await expect
      .poll(() => page.getByTestId('video-progress-text').textContent(), { timeout: 60_000 })
      .toMatch(/^(Processing: \d+ %|Waiting)/);
    await screenshot(page, 'video-progress-desktop');
    await expectAccessible(page, 'video progress');
    const [deleted] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().includes('/v1/jobs/')),
      page.getByRole('button', { name: 'Cancel' }).click(),
    ]);
    expect(deleted.status()).toBe(204);
    expect(await page.getByTestId('cancelled').textContent()).toBe(
      'Cancelled. The upload and everything processed so far were deleted.',
    );
    const gone = await page.request.get(deleted.url());
    expect(gone.status()).toBe(404);
    await context.close();
  });

  it('errors are translated sentences: a file that is not a video, picked or uploaded', async () => {
    const { context, page } = await newPage(harness.browser, undefined, 'fr-FR');
    await page.goto(`${harness.baseUrl}/fr/video/`);
    await page.getByTestId('video-input').setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('hello'),
    });
    await expect(page.getByTestId('pick-error').textContent()).resolves.toBe(
      'Ce n’est pas une vidéo que Nestor sait lire. Utilisez MP4, MOV, MKV ou WebM.',
    );
    expect(await page.getByTestId('start').isDisabled()).toBe(true);
    await page.getByTestId('video-input').setInputFiles({
      name: 'fake.mp4',
      mimeType: 'video/mp4',
      buffer: Buffer.from('this is not a video at all'),
    });
    await page.getByTestId('start').click();
    await expect(page.getByTestId('error').textContent()).resolves.toBe(
      'Ce n’est pas une vidéo que Nestor sait lire. Utilisez MP4, MOV, MKV ou WebM.',
    );
    await context.close();
  });

  it('is usable at 375 px', async () => {
    const { context, page } = await newPage(harness.browser, MOBILE, 'de-DE');
    await page.goto(`${harness.baseUrl}/de/video/`);
    await process(page, clip);
    expect(await page.getByTestId('error').count()).toBe(0);
    await page.getByTestId('result-video').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'video-done-mobile');
    await expectAccessible(page, 'video mobile');
    await context.close();
  });
});
