import { intersectionArea, type Rect } from '@nestor/core';
import type { Size } from './regions.ts';

/** A box and the size of the caption it needs. */
export interface Captioned {
  readonly box: Rect;
  readonly caption: Size;
}

const inside = (r: Rect, image: Size) =>
  r.x >= 0 && r.y >= 0 && r.x + r.width <= image.width && r.y + r.height <= image.height;

/**
 * Where each box's caption goes: above the box, else below it, else inside its top edge, left- then
 * right-aligned, taking the first spot clear of the captions already placed so neighbours' labels
 * never hide each other. When every spot is taken the first one in the image is used.
 */
export function placeLabels(items: readonly Captioned[], image: Size): Rect[] {
  const placed: Rect[] = [];
  for (const { box, caption } of items) {
    const width = Math.min(caption.width, image.width);
    const height = caption.height;
    const clampX = (x: number) => Math.max(0, Math.min(x, image.width - width));
    const rows = [box.y - height, box.y + box.height, box.y];
    const columns = [clampX(box.x), clampX(box.x + box.width - width)];
    const fitting = rows
      .flatMap((y) => columns.map((x) => ({ x, y, width, height })))
      .filter((c) => inside(c, image));
    const clear = fitting.find((c) => placed.every((p) => intersectionArea(p, c) === 0));
    placed.push(
      clear ??
        fitting[0] ?? {
          x: clampX(box.x),
          y: Math.max(0, Math.min(box.y, image.height - height)),
          width,
          height,
        },
    );
  }
  return placed;
}
