import { describe, expect, it } from 'vitest';
import { Progress } from './progress.ts';

/** A TTY stream 80 columns wide (a 20-cell bar) whose writes are kept, and a clock the test moves. */
function terminal(isTTY = true) {
  const writes: string[] = [];
  const stream = Object.assign(
    { write: (chunk: string) => writes.push(chunk) > 0 },
    { isTTY, columns: 80 },
  ) as unknown as NodeJS.WritableStream & { isTTY: boolean; columns: number };
  const clock = { ms: 0 };
  const lines = () => writes.map((w) => w.replace('\r\x1b[2K', ''));
  return { stream, clock, now: () => clock.ms, lines };
}

describe('Progress (the CLI bar)', () => {
  it('moves within a file as its work reports, at most every 100 ms, then counts the file', () => {
    const t = terminal();
    const bar = new Progress(t.stream, 2, 'anonymize', undefined, t.now);
    t.clock.ms = 1000;
    bar.working(0, 'a.jpg');
    t.clock.ms = 1050;
    bar.working(0.3, 'a.jpg');
    t.clock.ms = 2000;
    bar.working(0.5, 'a.jpg');
    t.clock.ms = 4000;
    bar.tick(true, 'a.jpg');
    expect(t.lines()).toEqual([
      // Nothing done yet: no rate to promise an end from.
      `anonymize [${'░'.repeat(20)}] 0/2 a.jpg`,
      `anonymize [${'█'.repeat(5)}${'░'.repeat(15)}] 0/2 0.3/s eta 6s a.jpg 50%`,
      `anonymize [${'█'.repeat(10)}${'░'.repeat(10)}] 1/2 0.3/s eta 4s a.jpg`,
    ]);
  });

  it('gives a slow file its seconds rather than 0.0 files a second', () => {
    const t = terminal();
    const bar = new Progress(t.stream, 1, 'anonymize', undefined, t.now);
    t.clock.ms = 16_000;
    bar.working(0.5, 'crowd.jpg');
    expect(t.lines()).toEqual([
      `anonymize [${'█'.repeat(10)}${'░'.repeat(10)}] 0/1 32s/file eta 16s crowd.jpg 50%`,
    ]);
  });

  it('writes nothing off a terminal', () => {
    const t = terminal(false);
    const bar = new Progress(t.stream, 1, 'detect', undefined, t.now);
    bar.working(0.5, 'a.jpg');
    bar.tick(false, 'a.jpg');
    bar.finish();
    expect(t.lines()).toEqual([]);
  });
});
