import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './database.ts';
import { type StatCounter, statsRepository } from './stats.ts';
import { openTestDatabase, TEST_DATABASES } from './testing.ts';

const c = (
  day: string,
  metric: StatCounter['metric'],
  dimension: string,
  value: number,
  bucket = '',
): StatCounter => ({
  day,
  metric,
  dimension,
  bucket,
  value,
});

describe.each(TEST_DATABASES)('statistics counters on $name', ({ name, skip }) => {
  let db: Database;
  beforeAll(async () => {
    if (!skip) db = await openTestDatabase(name);
  });
  afterAll(async () => {
    await db?.close();
  });
  const why = skip ? ` (skipped: ${skip})` : '';

  it.skipIf(skip)(`adds increments into each day's rows and reads a range${why}`, async () => {
    const stats = statsRepository(db);
    await stats.add([c('2026-02-28', 'requests', 'detect', 2), c('2026-03-01', 'requests', 'detect', 3)]);
    await stats.add([
      c('2026-03-01', 'requests', 'detect', 4),
      c('2026-03-01', 'latency', 'detect', 1, '+Inf'),
      c('2026-03-02', 'errors', 'E_DECODE', 1),
    ]);
    await stats.add([]);
    expect(await stats.range('2026-03-01', '2026-03-02')).toEqual([
      c('2026-03-01', 'latency', 'detect', 1, '+Inf'),
      c('2026-03-01', 'requests', 'detect', 7),
      c('2026-03-02', 'errors', 'E_DECODE', 1),
    ]);
    expect(await stats.range('2026-02-28', '2026-02-28')).toEqual([c('2026-02-28', 'requests', 'detect', 2)]);
  });

  it.skipIf(skip)(
    `refuses an unknown metric or a negative count, adding nothing of the batch${why}`,
    async () => {
      const stats = statsRepository(db);
      const bad = [
        c('2026-04-01', 'requests', 'detect', 1),
        { ...c('2026-04-01', 'requests', 'x', 1), metric: 'nope' },
      ];
      await expect(stats.add(bad as StatCounter[])).rejects.toThrow();
      await expect(stats.add([c('2026-04-01', 'bytes', 'detect', -1)])).rejects.toThrow();
      expect(await stats.range('2026-04-01', '2026-04-01')).toEqual([]);
    },
  );

  it.skipIf(skip)(`prunes days before a date${why}`, async () => {
    const stats = statsRepository(db);
    expect(await stats.pruneBefore('2026-03-01')).toBe(1);
    expect(await stats.range('2026-01-01', '2026-02-28')).toEqual([]);
  });
});
