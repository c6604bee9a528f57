import { describe, expect, it } from 'vitest';
import { evenRect, writeRgbChanges, yuvLayout, yuvToRgb } from './yuv.ts';

/** A 6x4 frame with smooth luma and constant chroma. */
function frame() {
  const layout = yuvLayout(6, 4);
  const data = new Uint8Array(layout.bytes);
  for (let i = 0; i < 24; i++) data[i] = 40 + i * 7;
  data.fill(110, layout.uOffset, layout.vOffset);
  data.fill(150, layout.vOffset);
  return { layout, data };
}

describe('yuv', () => {
  it.each([
    { w: 6, h: 4, bytes: 36 },
    { w: 5, h: 3, bytes: 15 + 2 * 3 * 2 },
    { w: 1920, h: 1080, bytes: 1920 * 1080 * 1.5 },
  ])('lays out $w x $h 4:2:0 in $bytes bytes', ({ w, h, bytes }) => {
    expect(yuvLayout(w, h).bytes).toBe(bytes);
  });

  it('converts a window to RGB and writes back only what changed', () => {
    const { layout, data } = frame();
    const original = data.slice();
    const rect = { x0: 2, y0: 0, x1: 6, y1: 4 };
    const rgb = yuvToRgb(data, layout, rect);
    expect(rgb).toMatchObject({ width: 4, height: 4, channels: 3 });
    const before = rgb.data.slice();
    writeRgbChanges(data, layout, rect, before, rgb.data);
    expect(data).toEqual(original);
    // Black on the top-left 2x2 block of the window: its luma and one chroma sample change.
    for (const i of [0, 1, 4, 5]) rgb.data.fill(0, i * 3, i * 3 + 3);
    writeRgbChanges(data, layout, rect, before, rgb.data);
    expect([data[2], data[3], data[8], data[9]]).toEqual([16, 16, 16, 16]);
    expect(data[4]).toBe(original[4]);
    expect(data[layout.uOffset + 1]).toBe(128);
    expect(data[layout.uOffset]).toBe(original[layout.uOffset]);
  });

  it('round-trips colours within 2 levels', () => {
    const layout = yuvLayout(2, 2);
    const data = new Uint8Array(layout.bytes).fill(128);
    data.set([60, 60, 60, 60]);
    const rgb = yuvToRgb(data, layout);
    const target = new Uint8Array(rgb.data).fill(200);
    writeRgbChanges(data, layout, { x0: 0, y0: 0, x1: 2, y1: 2 }, rgb.data, target);
    for (const v of yuvToRgb(data, layout).data) expect(Math.abs(v - 200)).toBeLessThanOrEqual(2);
  });

  it.each([
    { box: { x: 3, y: 3, width: 5, height: 5 }, margin: 1, expected: { x0: 2, y0: 2, x1: 10, y1: 10 } },
    { box: { x: 0, y: 0, width: 5, height: 5 }, margin: 4, expected: { x0: 0, y0: 0, x1: 10, y1: 10 } },
    { box: { x: 15, y: 9, width: 5, height: 2 }, margin: 2, expected: { x0: 12, y0: 6, x1: 20, y1: 12 } },
  ])('evenRect $box + $margin', ({ box, margin, expected }) => {
    expect(evenRect(box, margin, yuvLayout(20, 12))).toEqual(expected);
  });
});
