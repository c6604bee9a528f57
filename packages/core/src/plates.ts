import type { Rect } from './geometry.ts';

/** Geometry a text box must have to be read as a licence plate's characters. */
export interface PlateShapeRules {
  /** Width / height of the text box after unclip: one-line plates are wide, two-line ones squarer. */
  readonly minAspect: number;
  readonly maxAspect: number;
  /** Share of the un-expanded box covered by text pixels: a plate's line is dense. */
  readonly minFill: number;
  /** Longest plate side relative to the image's longest side (a plate never fills the photo). */
  readonly maxRelativeWidth: number;
}

export const PLATE_SHAPE: PlateShapeRules = {
  minAspect: 1.3,
  maxAspect: 9,
  minFill: 0.35,
  maxRelativeWidth: 0.6,
};

/** Whether a text detection has a licence plate's shape. Pure geometry: no pixels, no OCR. */
export function looksLikePlate(
  box: Rect,
  fill: number,
  imageWidth: number,
  imageHeight: number,
  rules: PlateShapeRules = PLATE_SHAPE,
): boolean {
  const aspect = box.width / box.height;
  return (
    aspect >= rules.minAspect &&
    aspect <= rules.maxAspect &&
    fill >= rules.minFill &&
    box.width <= rules.maxRelativeWidth * Math.max(imageWidth, imageHeight)
  );
}
