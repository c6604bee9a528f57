// Measures how free the page stays while "On this device" processes photos: the page's long tasks
// (its longest, and their sum) and the animation frames it drew during each run, with the run's
// time and what it found. Builds the app if needed and starts the real server (as the e2e tests do).
// Usage: node --import tsx apps/web/bin/device-responsiveness.ts [photo…] (names in ../shared/eval/dev/images)
// COLD=1 drops the photo right after choosing the engine, so the run also loads the models.
import { newPage, photo, startHarness } from '../src/e2e/harness.ts';

const photos =
  process.argv.length > 2 ? process.argv.slice(2) : ['face-0003.jpg', 'face-0438.jpg', 'plate-0002.jpg'];
const harness = await startHarness();
try {
  for (const name of photos) {
    const { context, page } = await newPage(harness.browser);
    await page.goto(`${harness.baseUrl}/en/`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.getByText('On this device', { exact: true }).click();
    if (!process.env.COLD) {
      await page.waitForFunction(
        () => document.querySelector('[data-testid=device-status]')?.textContent?.includes('loaded'),
        null,
        { timeout: 120_000 },
      );
    }
    // Strings, not functions: the page must not see the names a TypeScript loader adds to functions.
    await page.evaluate(`(() => {
      window.longTasks = []; window.frames = 0; window.t0 = performance.now();
      new PerformanceObserver((list) => { for (const e of list.getEntries()) window.longTasks.push(e.duration); })
        .observe({ type: 'longtask' });
      const tick = () => { window.frames++; requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    })()`);
    await page.getByTestId('file-input').setInputFiles(await photo(name));
    await page.waitForFunction(
      () => / done: |error/i.test(document.querySelector('[data-testid=announcer]')?.textContent ?? ''),
      null,
      { timeout: 120_000, polling: 50 },
    );
    const measured = (await page.evaluate(`(() => {
      const ms = performance.now() - window.t0;
      return {
        runMs: Math.round(ms),
        longestTaskMs: Math.round(Math.max(0, ...window.longTasks)),
        blockedMs: Math.round(window.longTasks.reduce((a, b) => a + b, 0)),
        framesPerSecond: Math.round(window.frames / (ms / 1000)),
      };
    })()`)) as Record<string, number>;
    const said = await page.getByTestId('announcer').textContent();
    console.log(`${name}\t${JSON.stringify(measured)}\t${said}`);
    await context.close();
  }
} finally {
  await harness.close();
}
