import type { Detection, DetectionResult } from '@nestor/core';

/** What the overlay draws of a region: its class, the model's box and score. */
export type DrawnRegion = Pick<Detection, 'label' | 'score' | 'box'>;

/** How a result spreads over frames: one still image, an animation's frames, or a TIFF's pages. */
export type FrameKind = 'still' | 'animation' | 'pages';

/** An animation has delays; a multi-page TIFF has frames without them. */
export function frameKind(result: DetectionResult): FrameKind {
  if ((result.image.frames ?? 1) <= 1) return 'still';
  return result.image.delaysMs ? 'animation' : 'pages';
}

/**
 * The regions on one frame (0-based): a still image's detections, or the regions the result lists
 * for that frame of an animation or page of a TIFF (none when it lists none).
 * @example regionsOfFrame(result, 0)
 */
export function regionsOfFrame(result: DetectionResult, index: number): readonly DrawnRegion[] {
  if (frameKind(result) === 'still') return result.detections;
  return result.frames?.find((f) => f.index === index)?.detections ?? [];
}

/** The frame to show first: the first with regions, so boxes show at once; frame 0 when none has. */
export function firstFrameWithRegions(result: DetectionResult): number {
  return result.frames?.find((f) => f.detections.length > 0)?.index ?? 0;
}
