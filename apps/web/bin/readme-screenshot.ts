// Writes docs/screenshot.png: the studio anonymizing two faces of the MIT-licensed sample photo of
// @vladmandic/human (installed with the models; never a photo of the labelled dev set).
// Usage: npx tsx apps/web/bin/readme-screenshot.ts
import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { newPage, REPO, startHarness } from '../src/e2e/harness.ts';

const SOURCE = `${REPO}node_modules/@vladmandic/human/assets/samples.jpg`;
const OUTPUT = `${REPO}docs/screenshot.png`;

// The top row of the sample sheet is plain thumbnails (no overlays): the 2nd and 3rd, side by side.
const photo = await sharp(SOURCE)
  .extract({ left: 166, top: 0, width: 370, height: 158 })
  .resize({ width: 740, kernel: 'lanczos3' })
  .jpeg({ quality: 92 })
  .toBuffer();

const harness = await startHarness();
try {
  const { context, page } = await newPage(harness.browser, { width: 1100, height: 990 });
  await page.goto(`${harness.baseUrl}/en/`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await page
    .getByTestId('file-input')
    .setInputFiles({ name: 'dinner.jpg', mimeType: 'image/jpeg', buffer: photo });
  await page.getByTestId('anonymized-image').waitFor({ timeout: 120_000 });
  const faces = await page.getByTestId('count-face').getAttribute('data-count');
  await page.mouse.move(0, 0);
  const png = await page.screenshot();
  // A palette keeps the README light (the page is mostly flat colours).
  const small = await sharp(png)
    .png({ palette: true, quality: 90, compressionLevel: 9, effort: 10 })
    .toBuffer();
  await writeFile(OUTPUT, small);
  console.log(`${OUTPUT}: ${small.length} bytes, ${faces} faces`);
  await context.close();
} finally {
  await harness.close();
}
