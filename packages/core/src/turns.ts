import { type ImageBox, imageBox } from './geometry.ts';
import type { RawImage } from './image.ts';

/** Clockwise quarter turns a photo can be read at, besides upright. */
export const QUARTER_TURNS = [90, 180, 270] as const;
export type QuarterTurn = (typeof QUARTER_TURNS)[number];

/** The image turned clockwise by `turn` degrees (a new buffer; 90 and 270 swap width and height). */
export function turnImage(image: RawImage, turn: QuarterTurn): RawImage {
  const { width: W, height: H, channels: c, data } = image;
  const width = turn === 180 ? W : H;
  const height = turn === 180 ? H : W;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // The source pixel of output pixel (x, y).
      const sx = turn === 90 ? y : turn === 180 ? W - 1 - x : W - 1 - y;
      const sy = turn === 90 ? H - 1 - x : turn === 180 ? H - 1 - y : x;
      const i = (sy * W + sx) * c;
      const o = (y * width + x) * c;
      for (let k = 0; k < c; k++) out[o + k] = data[i + k]!;
    }
  }
  return { width, height, channels: c, data: out };
}

/** A box found in the image turned by `turn`, in the coordinates of the upright image (width x height). */
export function unturnBox(box: ImageBox, turn: QuarterTurn, width: number, height: number): ImageBox {
  const { x, y, width: w, height: h } = box;
  if (turn === 90) return imageBox(y, height - x - w, h, w);
  if (turn === 180) return imageBox(width - x - w, height - y - h, w, h);
  return imageBox(width - y - h, x, h, w);
}

/** A box of the upright image (width x height), in the coordinates of the image turned by `turn`. */
export function turnBox(box: ImageBox, turn: QuarterTurn, width: number, height: number): ImageBox {
  const { x, y, width: w, height: h } = box;
  if (turn === 90) return imageBox(height - y - h, x, h, w);
  if (turn === 180) return imageBox(width - x - w, height - y - h, w, h);
  return imageBox(y, width - x - w, h, w);
}
