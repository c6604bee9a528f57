/** An axis-aligned rectangle: top-left corner plus size, in pixels. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

declare const space: unique symbol;
/** A rectangle in original-image pixels (after EXIF orientation). */
export type ImageBox = Rect & { readonly [space]: 'image' };
/** A rectangle in a model's input pixels (letterboxed tile). */
export type ModelBox = Rect & { readonly [space]: 'model' };

export const imageBox = (x: number, y: number, width: number, height: number): ImageBox =>
  ({ x, y, width, height }) as ImageBox;
export const modelBox = (x: number, y: number, width: number, height: number): ModelBox =>
  ({ x, y, width, height }) as ModelBox;

export const area = (r: Rect): number => Math.max(0, r.width) * Math.max(0, r.height);

export function intersectionArea(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Intersection over union; 0 for two empty rectangles. */
export function iou(a: Rect, b: Rect): number {
  const inter = intersectionArea(a, b);
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

/** Share of `inner`'s area that lies inside `outer` (0..1). */
export function containment(inner: Rect, outer: Rect): number {
  const a = area(inner);
  return a > 0 ? intersectionArea(inner, outer) / a : 0;
}

/** Grows a box about its centre by separate factors for width and height. */
export function scaleAboutCentre<T extends Rect>(box: T, scaleX: number, scaleY: number = scaleX): T {
  const width = box.width * scaleX;
  const height = box.height * scaleY;
  return {
    ...box,
    x: box.x + (box.width - width) / 2,
    y: box.y + (box.height - height) / 2,
    width,
    height,
  };
}

/** The smallest box holding every box of a non-empty list. */
export function boundingBox<T extends Rect>(boxes: readonly [T, ...T[]]): T {
  let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const b of boxes) {
    x1 = Math.min(x1, b.x);
    y1 = Math.min(y1, b.y);
    x2 = Math.max(x2, b.x + b.width);
    y2 = Math.max(y2, b.y + b.height);
  }
  return { ...boxes[0], x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}

/** Clips a box to `[0, width) x [0, height)`; may return an empty box. */
export function clipToImage(box: ImageBox, width: number, height: number): ImageBox {
  const x1 = Math.max(0, Math.min(width, box.x));
  const y1 = Math.max(0, Math.min(height, box.y));
  const x2 = Math.max(0, Math.min(width, box.x + box.width));
  const y2 = Math.max(0, Math.min(height, box.y + box.height));
  return imageBox(x1, y1, x2 - x1, y2 - y1);
}

/** Integer pixel bounds covering a box (floor/ceil), clipped to the image. */
export function pixelBounds(
  box: Rect,
  width: number,
  height: number,
): { x0: number; y0: number; x1: number; y1: number } {
  return {
    x0: Math.max(0, Math.floor(box.x)),
    y0: Math.max(0, Math.floor(box.y)),
    x1: Math.min(width, Math.ceil(box.x + box.width)),
    y1: Math.min(height, Math.ceil(box.y + box.height)),
  };
}

/** Rounds a box outward to whole pixels, for reporting. */
export function roundOut<T extends Rect>(box: T): T {
  const x = Math.floor(box.x);
  const y = Math.floor(box.y);
  return {
    ...box,
    x,
    y,
    width: Math.ceil(box.x + box.width) - x,
    height: Math.ceil(box.y + box.height) - y,
  };
}
