import type { Size } from './regions.ts';

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

const overlaps = (a: Rect, b: Rect) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

const inside = (r: Rect, image: Size) =>
  r.x >= 0 && r.y >= 0 && r.x + r.width <= image.width && r.y + r.height <= image.height;

/**
 * Where each box's caption goes: above the box, else below it, else inside its top edge, left- then
 * right-aligned, taking the first spot clear of the captions already placed so neighbours' labels
 * never hide each other. When every spot is taken the first one in the image is used.
 */
export function placeLabels(boxes: readonly Rect[], labels: readonly Size[], image: Size): Rect[] {
  const placed: Rect[] = [];
  boxes.forEach((box, i) => {
    const size = labels[i] ?? { width: 0, height: 0 };
    const width = Math.min(size.width, image.width);
    const clampX = (x: number) => Math.max(0, Math.min(x, image.width - width));
    const rows = [box.y - size.height, box.y + box.height, box.y];
    const columns = [clampX(box.x), clampX(box.x + box.width - width)];
    const candidates = rows.flatMap((y) => columns.map((x) => ({ x, y, width, height: size.height })));
    const fitting = candidates.filter((c) => inside(c, image));
    const fallback = fitting[0] ?? {
      x: clampX(box.x),
      y: Math.max(0, Math.min(box.y, image.height - size.height)),
      width,
      height: size.height,
    };
    placed.push(fitting.find((c) => !placed.some((p) => overlaps(p, c))) ?? fallback);
  });
  return placed;
}
