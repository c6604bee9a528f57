import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT, main } from './main.ts';
import { captureIo } from './test-support.ts';

/** A two-image labelled set and saved predictions: one match, one false positive, one missed face. */
describe('nestor eval --from --review', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-eval-'));
    mkdirSync(path.join(dir, 'set/images'), { recursive: true });
    for (const name of ['a.png', 'b.png']) {
      await sharp({ create: { width: 160, height: 120, channels: 3, background: '#6080a0' } })
        .png()
        .toFile(path.join(dir, 'set/images', name));
    }
    const annotations = {
      images: [
        {
          file: 'images/a.png',
          source: 's:a',
          complete: true,
          boxes: [{ label: 'face', x: 20, y: 20, w: 30, h: 30 }],
        },
        {
          file: 'images/b.png',
          source: 's:b',
          complete: false,
          boxes: [
            { label: 'face', x: 100, y: 50, w: 20, h: 20 },
            { label: 'plate', x: 10, y: 90, w: 60, h: 20 },
          ],
        },
      ],
    };
    writeFileSync(path.join(dir, 'set/annotations.json'), JSON.stringify(annotations));
    const predictions = {
      images: {
        'images/a.png': [
          { label: 'face', score: 0.9, x: 21, y: 21, w: 30, h: 30 },
          { label: 'face', score: 0.8, x: 100, y: 60, w: 25, h: 25 },
        ],
        'images/b.png': [{ label: 'plate', score: 0.7, x: 10, y: 90, w: 60, h: 20 }],
      },
    };
    writeFileSync(path.join(dir, 'pred.json'), JSON.stringify(predictions));
  });

  it('scores saved predictions without a model and draws one sheet per label and kind', async () => {
    const io = captureIo(dir);
    expect(await main(['eval', 'set', '--from', 'pred.json', '--review', 'rev', '--json'], io)).toBe(EXIT.ok);
    const out = JSON.parse(io.out());
    expect(out.images).toBe(2);
    expect(out).not.toHaveProperty('meanDetectMs');
    expect(out.metrics.face.precision_complete).toBe(0.5);
    expect(out.metrics.plate.recall_cover70).toBe(1);
    expect(io.err()).toContain('review: 1 false positives and 1 misses on 2 sheets');

    const review = JSON.parse(readFileSync(path.join(dir, 'rev/review.json'), 'utf8'));
    expect(review.sheets).toEqual([
      {
        file: 'face-false-positives-1.png',
        label: 'face',
        kind: 'false-positive',
        tiles: [{ tile: 1, image: 'images/a.png', box: { x: 100, y: 60, w: 25, h: 25 }, value: 0.8 }],
      },
      {
        file: 'face-misses-1.png',
        label: 'face',
        kind: 'miss',
        tiles: [{ tile: 1, image: 'images/b.png', box: { x: 100, y: 50, w: 20, h: 20 }, value: 0 }],
      },
    ]);
    for (const sheet of review.sheets) {
      const meta = await sharp(path.join(dir, 'rev', sheet.file)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 132, 132]);
    }
  });

  it('stops with exit code 3 and the file it could not read', async () => {
    const io = captureIo(dir);
    expect(await main(['eval', 'set', '--from', 'absent.json'], io)).toBe(EXIT.fatal);
    expect(io.err()).toContain('E_INPUT_UNREADABLE');
    expect(io.err()).toContain('absent.json');
    expect(existsSync(path.join(dir, 'absent.json'))).toBe(false);
  });
});
