import { describe, expect, it } from 'vitest';
import { imageBox } from './geometry.ts';
import type { RawImage } from './image.ts';
import { QUARTER_TURNS, turnBox, turnImage, unturnBox } from './turns.ts';

/** A 5x3 RGB image whose pixel (x, y) holds [x, y, 9]. */
const coords: RawImage = {
  width: 5,
  height: 3,
  channels: 3,
  data: Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => {
    const p = Math.floor(i / 3);
    return [p % 5, Math.floor(p / 5), 9][i % 3]!;
  }),
};
const at = (image: RawImage, x: number, y: number) => {
  const i = (y * image.width + x) * image.channels;
  return [...image.data.subarray(i, i + image.channels)];
};

describe('turnImage', () => {
  it.each([
    // Clockwise: the top-left corner goes top-right (90), bottom-right (180), bottom-left (270).
    { turn: 90, size: [3, 5], topLeft: [0, 2], topRight: [0, 0] },
    { turn: 180, size: [5, 3], topLeft: [4, 2], topRight: [0, 2] },
    { turn: 270, size: [3, 5], topLeft: [4, 0], topRight: [4, 2] },
  ] as const)('$turn°: size and corners', ({ turn, size, topLeft, topRight }) => {
    const turned = turnImage(coords, turn);
    expect([turned.width, turned.height]).toEqual(size);
    expect(at(turned, 0, 0)).toEqual([...topLeft, 9]);
    expect(at(turned, turned.width - 1, 0)).toEqual([...topRight, 9]);
  });

  it('keeps alpha with its pixel', () => {
    const rgba: RawImage = {
      width: 2,
      height: 1,
      channels: 4,
      data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
    };
    expect([...turnImage(rgba, 90).data]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...turnImage(rgba, 180).data]).toEqual([5, 6, 7, 8, 1, 2, 3, 4]);
  });
});

describe('turnBox and unturnBox', () => {
  /** The bounding box, in pixels, of the pixels whose blue channel is 255. */
  const marked = (image: RawImage) => {
    let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
    for (let y = 0; y < image.height; y++)
      for (let x = 0; x < image.width; x++) {
        if (at(image, x, y)[2] !== 255) continue;
        [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      }
    return imageBox(x0, y0, x1 - x0 + 1, y1 - y0 + 1);
  };

  it.each(QUARTER_TURNS)('map a box onto the same pixels turned by %s° and back', (turn) => {
    const width = 40;
    const height = 30;
    const data = new Uint8Array(width * height * 3);
    const face = imageBox(6, 4, 10, 15);
    for (let y = face.y; y < face.y + face.height; y++)
      for (let x = face.x; x < face.x + face.width; x++) data[(y * width + x) * 3 + 2] = 255;
    const turned = turnImage({ width, height, channels: 3, data }, turn);
    expect(unturnBox(marked(turned), turn, width, height)).toEqual(face);
    expect(turnBox(face, turn, width, height)).toEqual(marked(turned));
  });
});
