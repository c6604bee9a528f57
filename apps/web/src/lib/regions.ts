import type { Detection, Label } from '@nestor/core';
import type { ReviewedRegion } from './engines.ts';

/** A region in the review editor: what will be covered, where it came from. */
export interface EditableRegion extends ReviewedRegion {
  readonly id: string;
  readonly source: 'model' | 'manual';
  /** The detector's score; 1 for regions drawn by a person. */
  readonly score: number;
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** The smallest side a region may have, in image pixels. */
export const MIN_SIDE = 4;

const SHAPES: Readonly<Record<Label, ReviewedRegion['shape']>> = { face: 'ellipse', plate: 'rect' };

/** The regions a run covered (or would cover), as the editor's starting point. */
export function fromDetections(detections: readonly Detection[]): EditableRegion[] {
  return detections.map((d, i) => ({
    id: `d${i}`,
    label: d.label,
    x: d.region.x,
    y: d.region.y,
    width: d.region.width,
    height: d.region.height,
    shape: d.shape,
    source: d.source,
    score: d.score,
  }));
}

/** Whole pixels, at least MIN_SIDE wide and high (when the image allows), inside the image. */
export function clampRegion<R extends ReviewedRegion>(region: R, image: Size): R {
  const width = Math.round(Math.min(Math.max(region.width, Math.min(MIN_SIDE, image.width)), image.width));
  const height = Math.round(
    Math.min(Math.max(region.height, Math.min(MIN_SIDE, image.height)), image.height),
  );
  const x = Math.round(Math.min(Math.max(region.x, 0), image.width - width));
  const y = Math.round(Math.min(Math.max(region.y, 0), image.height - height));
  return { ...region, x, y, width, height };
}

export function moveRegion<R extends ReviewedRegion>(region: R, dx: number, dy: number, image: Size): R {
  return clampRegion({ ...region, x: region.x + dx, y: region.y + dy }, image);
}

/** Grows or shrinks from the top-left corner, which stays put (unless the image edge pushes it). */
export function resizeRegion<R extends ReviewedRegion>(region: R, dw: number, dh: number, image: Size): R {
  const width = Math.min(region.width + dw, image.width - region.x);
  const height = Math.min(region.height + dh, image.height - region.y);
  return clampRegion({ ...region, width, height }, image);
}

/** A new region of the label's default shape, a fifth of the image's short side, centred on (cx, cy). */
export function newRegion(
  label: Label,
  id: string,
  image: Size,
  cx = image.width / 2,
  cy = image.height / 2,
): EditableRegion {
  const side = Math.max(MIN_SIDE, Math.round(Math.min(image.width, image.height) / 5));
  const width = label === 'plate' ? side * 2 : side;
  const height = label === 'plate' ? Math.round(side / 2) : side;
  return clampRegion(
    {
      id,
      label,
      x: cx - width / 2,
      y: cy - height / 2,
      width,
      height,
      shape: SHAPES[label],
      source: 'manual',
      score: 1,
    },
    image,
  );
}

/** The rectangle spanned by a drag from (x0, y0) to (x1, y1), in image pixels. */
export function dragRect(
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): { x: number; y: number; width: number; height: number } {
  return { x: Math.min(x0, x1), y: Math.min(y0, y1), width: Math.abs(x1 - x0), height: Math.abs(y1 - y0) };
}

/** Keyboard step in image pixels: about half a percent of the long side, ten times that with Shift. */
export function keyStep(image: Size, large: boolean): number {
  const step = Math.max(1, Math.round(Math.max(image.width, image.height) / 200));
  return large ? step * 10 : step;
}

export type KeyEdit =
  | { readonly kind: 'move'; readonly dx: number; readonly dy: number }
  | { readonly kind: 'resize'; readonly dw: number; readonly dh: number }
  | { readonly kind: 'remove' };

const ARROWS: Readonly<Record<string, readonly [number, number]>> = {
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
  ArrowUp: [0, -1],
  ArrowDown: [0, 1],
};

/**
 * The edit a key press asks for on a focused region: arrows move, Alt+arrows resize (right and
 * down grow), Shift makes either ten times larger, Delete or Backspace removes.
 */
export function keyEdit(
  key: { key: string; shiftKey: boolean; altKey: boolean },
  image: Size,
): KeyEdit | undefined {
  if (key.key === 'Delete' || key.key === 'Backspace') return { kind: 'remove' };
  const arrow = ARROWS[key.key];
  if (!arrow) return undefined;
  const step = keyStep(image, key.shiftKey);
  const [x, y] = arrow;
  return key.altKey
    ? { kind: 'resize', dw: x * step, dh: y * step }
    : { kind: 'move', dx: x * step, dy: y * step };
}

/** Applies a key edit; `undefined` when the region is removed. */
export function applyKeyEdit<R extends ReviewedRegion>(region: R, edit: KeyEdit, image: Size): R | undefined {
  switch (edit.kind) {
    case 'remove':
      return undefined;
    case 'move':
      return moveRegion(region, edit.dx, edit.dy, image);
    case 'resize':
      return resizeRegion(region, edit.dw, edit.dh, image);
  }
}

/** The plain region the API takes (an id, source and score dropped). */
export const reviewedOf = ({ label, x, y, width, height, shape }: ReviewedRegion): ReviewedRegion => ({
  label,
  x,
  y,
  width,
  height,
  shape,
});

/** The plain regions the API takes (ids, sources and scores dropped). */
export const toReviewed = (regions: readonly EditableRegion[]): ReviewedRegion[] => regions.map(reviewedOf);
