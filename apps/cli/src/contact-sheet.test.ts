import type { RawImage } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { assembleSheet, captioned, renderTile, SHEET_COLOURS } from './contact-sheet.ts';

/** 200x200 RGB: left half red, right half blue. */
function halves(): RawImage {
  const width = 200;
  const height = 200;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(x < 100 ? [255, 0, 0] : [0, 0, 255], (y * width + x) * 3);
  }
  return { width, height, channels: 3, data };
}

const pixel = (img: RawImage, x: number, y: number) => [
  ...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3),
];

describe('renderTile', () => {
  // focus 20x20 at (90, 90): the tile shows 50x50 image px around it (2.5x), at 2 tile px per image px
  const focus = { x: 90, y: 90, w: 20, h: 20 };
  const tile = renderTile(halves(), { focus, truths: [], predictions: [] }, 100);

  it.each([
    { where: 'left of centre', x: 20, y: 50, want: [255, 0, 0] },
    { where: 'right of centre', x: 80, y: 50, want: [0, 0, 255] },
    { where: 'on the focus outline, left edge', x: 30, y: 50, want: [...SHEET_COLOURS.focus] },
    { where: 'on the focus outline, right edge', x: 69, y: 50, want: [...SHEET_COLOURS.focus] },
    { where: 'on the focus outline, top edge', x: 50, y: 30, want: [...SHEET_COLOURS.focus] },
  ])('shows the image around the focus: $where', ({ x, y, want }) => {
    expect(tile.width).toBe(100);
    expect(tile.height).toBe(100);
    expect(pixel(tile, x, y)).toEqual(want);
  });

  it('outlines labelled boxes and predicted regions in their colours, the focus over them', () => {
    const t = renderTile(
      halves(),
      {
        focus,
        truths: [{ x: 80, y: 80, w: 10, h: 10 }, focus],
        predictions: [{ x: 100, y: 100, w: 10, h: 10 }],
      },
      100,
    );
    expect(pixel(t, 10, 15)).toEqual([...SHEET_COLOURS.truth]);
    expect(pixel(t, 50, 60)).toEqual([...SHEET_COLOURS.prediction]);
    expect(pixel(t, 30, 40)).toEqual([...SHEET_COLOURS.focus]);
  });

  it('fills what lies outside the image with the background', () => {
    const t = renderTile(halves(), { focus: { x: 0, y: 0, w: 10, h: 10 }, truths: [], predictions: [] }, 64);
    expect(pixel(t, 1, 1)).toEqual([...SHEET_COLOURS.background]);
    expect(pixel(t, 60, 40)).toEqual([255, 0, 0]);
  });

  it('captions a copy at the bottom-left on a dark strip', () => {
    const plain = renderTile(halves(), { focus, truths: [], predictions: [] }, 100);
    const t = captioned(plain, '1');
    expect(pixel(plain, 3, 89)).toEqual([255, 0, 0]);
    // glyph "1", top row "010": its lit cell is 2x2 px at x 3-4, one pixel under the strip's top
    expect(pixel(t, 3, 89)).toEqual([...SHEET_COLOURS.caption]);
    expect(pixel(t, 1, 89)).toEqual([0, 0, 0]);
    expect(pixel(t, 50, 89)).not.toEqual([0, 0, 0]);
  });
});

describe('assembleSheet', () => {
  const solid = (v: number): RawImage => ({
    width: 10,
    height: 10,
    channels: 3,
    data: new Uint8Array(300).fill(v),
  });

  it.each([
    { tiles: 3, columns: 2, width: 26, height: 26, third: { x: 2, y: 14 } },
    { tiles: 3, columns: 5, width: 38, height: 14, third: { x: 26, y: 2 } },
  ])('lays $tiles tiles out $columns per row', ({ tiles, columns, width, height, third }) => {
    const sheet = assembleSheet([solid(10), solid(20), solid(30)].slice(0, tiles), columns);
    expect([sheet.width, sheet.height]).toEqual([width, height]);
    expect(pixel(sheet, third.x, third.y)).toEqual([30, 30, 30]);
    expect(pixel(sheet, third.x + 9, third.y + 9)).toEqual([30, 30, 30]);
    expect(pixel(sheet, 0, 0)).toEqual([0, 0, 0]);
  });
});
