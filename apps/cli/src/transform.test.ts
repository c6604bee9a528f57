import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { EXIT, main } from './main.ts';
import { captureIo } from './test-support.ts';
import { darken, darkenCurve, turnLabel } from './transform.ts';

describe('darkenCurve', () => {
  it.each([
    { gamma: 1, gain: 1, want: [0, 64, 128, 255] },
    { gamma: 1, gain: 0.5, want: [0, 32, 64, 128] },
    { gamma: 2, gain: 1, want: [0, 16, 64, 255] },
    { gamma: 3, gain: 0.4, want: [0, 2, 13, 102] },
  ])('gamma $gamma, gain $gain', ({ gamma, gain, want }) => {
    const curve = darkenCurve(gamma, gain);
    expect([0, 64, 128, 255].map((v) => curve[v])).toEqual(want);
  });
});

describe('darken', () => {
  it('maps colour channels through the curve and keeps alpha', () => {
    const image = {
      width: 1,
      height: 2,
      channels: 4 as const,
      data: new Uint8Array([255, 128, 0, 200, 64, 64, 64, 7]),
    };
    expect([...darken(image, darkenCurve(1, 0.5)).data]).toEqual([128, 64, 0, 200, 32, 32, 32, 7]);
  });
});

describe('turnLabel', () => {
  // A 40x30 photo with a label at (5, 6), 20x8.
  const label = { label: 'plate', x: 5, y: 6, w: 20, h: 8 };
  it.each([
    { turn: 90, want: { x: 16, y: 5, w: 8, h: 20 } },
    { turn: 180, want: { x: 15, y: 16, w: 20, h: 8 } },
    { turn: 270, want: { x: 6, y: 15, w: 8, h: 20 } },
  ] as const)('$turn°', ({ turn, want }) => {
    expect(turnLabel(label, turn, 40, 30)).toEqual({ label: 'plate', ...want });
  });
});

describe('nestor transform', () => {
  it('writes the photos of one class darkened and turned, labels moved with them, for nestor eval', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-darken-'));
    mkdirSync(path.join(dir, 'set/images'), { recursive: true });
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#808080' } })
      .png()
      .toFile(path.join(dir, 'set/images/car.png'));
    const images = [
      { file: 'images/car.png', width: 40, height: 30, boxes: [{ label: 'plate', x: 5, y: 6, w: 20, h: 8 }] },
      {
        file: 'images/face.png',
        width: 40,
        height: 30,
        boxes: [{ label: 'face', x: 1, y: 1, w: 10, h: 10 }],
      },
    ];
    writeFileSync(path.join(dir, 'set/annotations.json'), JSON.stringify({ images }));
    const io = captureIo(dir);
    const argv = [
      'transform',
      'set',
      'out',
      '--gamma',
      '2',
      '--gain',
      '0.5',
      '--turn',
      '90',
      '--label',
      'plate',
    ];
    expect(await main(argv, io)).toBe(EXIT.ok);
    expect(io.err()).toContain('transform: 1 photos, gamma 2, gain 0.5, turned 90°');
    const written = JSON.parse(readFileSync(path.join(dir, 'out/annotations.json'), 'utf8'));
    expect(written.images).toEqual([
      {
        ...images[0],
        file: 'images/car.jpg',
        width: 30,
        height: 40,
        boxes: [{ label: 'plate', x: 16, y: 5, w: 8, h: 20 }],
      },
    ]);
    const { data } = await sharp(path.join(dir, 'out/images/car.jpg'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    // 128 -> 255 x 0.5 x (128/255)^2 = 32.
    expect(Math.abs(data[0]! - 32)).toBeLessThanOrEqual(2);
  });

  it.each([
    { flag: '--gamma', value: '0.5' },
    { flag: '--gain', value: '2' },
    { flag: '--label', value: 'car' },
    { flag: '--turn', value: '45' },
  ])('refuses $flag $value with exit code 2', async ({ flag, value }) => {
    const io = captureIo(os.tmpdir());
    expect(await main(['transform', 'set', 'out', flag, value], io)).toBe(EXIT.usage);
    expect(io.err()).toContain('E_INVALID_OPTION: Expected');
    expect(io.err()).toContain(flag);
  });
});
