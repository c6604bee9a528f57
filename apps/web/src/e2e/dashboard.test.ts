import AxeBuilder from '@axe-core/playwright';
import { type DetectionResult, parseConfig, type RouteKind } from '@nestor/core';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../server/src/app.ts';
import { fakePipeline } from '../../../server/src/fake-pipeline.ts';
import { countersOf, memoryStatsStore } from '../../../server/src/stats.ts';
import { ensureWebBuild } from '../build/ensure-build.ts';
import { CHROMIUM, CHROMIUM_ARGS, DESKTOP, hasChromium, MOBILE, newPage, screenshot } from './harness.ts';

if (!hasChromium) console.warn(`dashboard e2e: skipped, ${CHROMIUM} is missing (apt-get install chromium)`);

/** Thirty days of plausible counters, generated deterministically (no image involved). */
async function seededStore() {
  const store = memoryStatsStore();
  let seed = 11;
  const random = () => {
    seed = (seed * 16_807) % 2_147_483_647;
    return seed / 2_147_483_647;
  };
  const today = Date.now();
  for (let day = 29; day >= 0; day--) {
    const at = new Date(today - day * 86_400_000);
    for (let i = 0; i < 10 + day; i++) {
      const kind: RouteKind = random() < 0.5 ? 'anonymize' : random() < 0.9 ? 'detect' : 'job';
      const detections = [
        { label: 'face', score: 0.65 + random() * 0.34, source: 'model' },
        ...(random() < 0.3 ? [{ label: 'plate', score: 0.6 + random() * 0.39, source: 'model' }] : []),
      ];
      await store.add(
        countersOf({
          at,
          kind,
          ms: 100 + random() * 3000,
          bytes: 500_000,
          ...(random() < 0.05 ? { errorCode: 'E_DECODE' } : {}),
          result: { detections } as unknown as DetectionResult,
        }),
      );
    }
  }
  return store;
}

describe.skipIf(!hasChromium)('statistics dashboard in chromium', () => {
  let app: FastifyInstance;
  let baseUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    await ensureWebBuild((line) => process.stderr.write(`e2e: ${line}\n`));
    app = buildApp({ nestor: fakePipeline(), config: parseConfig({}), stats: await seededStore() });
    baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it.each([
    ['en', DESKTOP],
    ['fr', MOBILE],
  ] as const)('%s: draws every chart from the stored counters, accessibly', async (locale, viewport) => {
    const { context, page } = await newPage(browser, viewport);
    try {
      await page.goto(`${baseUrl}/${locale}/dashboard/`);
      const charts = page.locator('figure svg[role="img"]');
      await charts.first().locator('rect').first().waitFor({ timeout: 30_000 });
      // Volumes, detections, latency, error rate, and one confidence histogram per class.
      expect(await charts.count()).toBe(6);
      for (let i = 0; i < 6; i++) {
        const chart = charts.nth(i);
        expect(await chart.locator('title').textContent()).toBeTruthy();
        expect(await chart.locator('rect, polyline').count(), `chart ${i}`).toBeGreaterThan(0);
      }
      // The numbers behind the first chart: 30 days, one row each.
      await page.locator('figure details summary').first().click();
      expect(await page.locator('figure details').first().locator('tbody tr').count()).toBe(30);
      const { violations } = await new AxeBuilder({ page })
        .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
        .analyze();
      expect(violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual(
        [],
      );
      await screenshot(page, `dashboard-${locale}-${viewport.width}`);
    } finally {
      await context.close();
    }
  });

  it('a range with no data says so', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(`${baseUrl}/en/dashboard/`);
      await page.getByLabel('From').fill('2020-01-01');
      await page.getByLabel('To').fill('2020-01-31');
      await page.getByRole('button', { name: 'Show', exact: true }).click();
      await page.getByText('No data for this period.').waitFor({ timeout: 30_000 });
    } finally {
      await context.close();
    }
  });
});
