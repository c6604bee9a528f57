import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RawImage } from '@nestor/core';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { GroundTruthImage } from './eval-metrics.ts';
import { EXIT, main } from './main.ts';
import { mosaicLabels, packMosaics, paste } from './mosaic.ts';
import { captureIo } from './test-support.ts';

const photo = (file: string, width: number, height: number, complete = true): GroundTruthImage => ({
  file,
  width,
  height,
  complete,
  boxes: [{ label: 'face', x: 10, y: 20, w: 30, h: 40 }],
});

describe('packMosaics', () => {
  it.each([
    {
      name: 'fills a row, then the next row under the tallest photo',
      photos: [photo('a', 40, 30), photo('b', 50, 20), photo('c', 40, 40)],
      scale: 1,
      want: [['a 0,0', 'b 40,0', 'c 0,30']],
    },
    {
      name: 'starts a new mosaic when the next row would not fit',
      photos: [photo('a', 60, 60), photo('b', 60, 60), photo('c', 60, 60)],
      scale: 1,
      want: [['a 0,0'], ['b 0,0'], ['c 0,0']],
    },
    {
      name: 'scales photos first and leaves out one too large to fit alone',
      photos: [photo('a', 20, 10), photo('huge', 200, 10), photo('b', 20, 10)],
      scale: 2,
      want: [['a 0,0', 'b 40,0']],
    },
  ])('$name', ({ photos, scale, want }) => {
    const packed = packMosaics(photos, 100, 80, scale);
    expect(packed.map((m) => m.map((p) => `${p.photo.file} ${p.left},${p.top}`))).toEqual(want);
  });
});

describe('mosaicLabels', () => {
  it('moves and scales every label, and is complete only if every photo was', () => {
    const placements = [
      { photo: photo('a', 40, 30), left: 0, top: 0, width: 80, height: 60 },
      { photo: photo('b', 40, 30, false), left: 80, top: 0, width: 80, height: 60 },
    ];
    const labels = mosaicLabels('images/mosaic-1.jpg', 200, 100, placements, 2);
    expect(labels.boxes).toEqual([
      { label: 'face', x: 20, y: 40, w: 60, h: 80 },
      { label: 'face', x: 100, y: 40, w: 60, h: 80 },
    ]);
    expect(labels.complete).toBe(false);
    expect(mosaicLabels('m', 200, 100, placements.slice(0, 1), 2).complete).toBe(true);
  });
});

describe('paste', () => {
  it('resamples a photo into its place and leaves the rest of the canvas alone', () => {
    const canvas: RawImage = { width: 8, height: 4, channels: 3, data: new Uint8Array(8 * 4 * 3).fill(7) };
    // 2x1 RGBA: red | blue, pasted at 4x2 from (2, 1)
    const image: RawImage = {
      width: 2,
      height: 1,
      channels: 4,
      data: new Uint8Array([255, 0, 0, 255, 0, 0, 255, 255]),
    };
    paste(canvas, image, { left: 2, top: 1, width: 4, height: 2 });
    const at = (x: number, y: number) => [...canvas.data.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3)];
    expect(at(2, 1)).toEqual([255, 0, 0]);
    expect(at(5, 2)).toEqual([0, 0, 255]);
    expect(at(3, 1)[0]).toBeGreaterThan(at(4, 1)[0]!);
    expect(at(1, 1)).toEqual([7, 7, 7]);
    expect(at(6, 1)).toEqual([7, 7, 7]);
    expect(at(2, 3)).toEqual([7, 7, 7]);
  });
});

describe('nestor mosaic', () => {
  it('writes large photos and their labels for nestor eval', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-mosaic-'));
    mkdirSync(path.join(dir, 'set/images'), { recursive: true });
    const colours = ['#ff0000', '#00ff00', '#0000ff'];
    for (const [k, colour] of colours.entries()) {
      await sharp({ create: { width: 60, height: 40, channels: 3, background: colour } })
        .png()
        .toFile(path.join(dir, `set/images/${k}.png`));
    }
    const images = colours.map((_, k) => ({
      ...photo(`images/${k}.png`, 60, 40),
      source: k === 2 ? 'other:2' : `mine:${k}`,
    }));
    writeFileSync(path.join(dir, 'set/annotations.json'), JSON.stringify({ images }));
    const io = captureIo(dir);
    const argv = ['mosaic', 'set', 'out', '--scale', '2', '--size', '240x100', '--source', 'mine'];
    expect(await main(argv, io)).toBe(EXIT.ok);
    expect(io.err()).toContain('mosaic: 2 of 2 photos on 1 images of 240x100');
    const written = JSON.parse(readFileSync(path.join(dir, 'out/annotations.json'), 'utf8'));
    expect(written.images).toHaveLength(1);
    expect(written.images[0].boxes).toEqual([
      { label: 'face', x: 20, y: 40, w: 60, h: 80 },
      { label: 'face', x: 140, y: 40, w: 60, h: 80 },
    ]);
    const { data, info } = await sharp(path.join(dir, 'out/images/mosaic-1.jpg'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([240, 100]);
    const at = (x: number, y: number) => [...data.subarray((y * 240 + x) * 3, (y * 240 + x) * 3 + 3)];
    expect(at(60, 40)[0]).toBeGreaterThan(200);
    expect(at(180, 40)[1]).toBeGreaterThan(200);
    expect(Math.abs(at(60, 90)[0]! - 128)).toBeLessThan(10);
  });

  it.each([
    { flag: '--scale', value: '0' },
    { flag: '--size', value: '10x10' },
    { flag: '--size', value: 'big' },
  ])('refuses $flag $value with exit code 2', async ({ flag, value }) => {
    const io = captureIo(os.tmpdir());
    expect(await main(['mosaic', 'set', 'out', flag, value], io)).toBe(EXIT.usage);
    expect(io.err()).toContain(`E_INVALID_OPTION: Expected`);
    expect(io.err()).toContain(flag);
  });
});
