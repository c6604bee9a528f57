// Runs "Compare both engines" of the web app on a sample of ../shared/eval/dev photos and prints
// whether the server and the on-device engine agree (same count, boxes within 2 px) on each.
// Usage: npm start (in another shell), then node --import tsx apps/web/bin/compare-engines.ts [baseUrl] [every]
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../../../packages/engine-web/bin/chromium.ts';

const baseUrl = process.argv[2] ?? 'http://127.0.0.1:5050';
const every = Number(process.argv[3] ?? 20);
const dir = fileURLToPath(new URL('../../../../shared/eval/dev/images/', import.meta.url));
const all = readdirSync(dir).sort();
const sample = ['face', 'plate'].flatMap((label) =>
  all.filter((f) => f.startsWith(label)).filter((_, i) => i % every === 0),
);

const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(`${baseUrl}/en/`);
  let agree = 0;
  for (const file of sample) {
    await page.getByTestId('file-input').setInputFiles(`${dir}${file}`);
    await page.getByTestId('counts').or(page.getByTestId('error')).first().waitFor({ timeout: 120_000 });
    await page.getByRole('button', { name: 'Compare both engines' }).click();
    const verdict = page.getByTestId('compare-verdict');
    await verdict.waitFor({ timeout: 120_000 });
    const agrees = (await verdict.getAttribute('data-agree')) === 'true';
    if (agrees) agree++;
    const rows = await page.getByTestId('compare').locator('tbody tr').allInnerTexts();
    console.log(
      `${file}\t${agrees ? 'agree' : 'DISAGREE'}\t${rows.map((r) => r.replace(/\s+/g, ' ')).join(' | ')}`,
    );
    await page.getByRole('button', { name: 'Remove all' }).click();
  }
  console.log(`${agree}/${sample.length} agree`);
} finally {
  await browser.close();
}
