import { type ModelBox, modelBox } from '../geometry.ts';

/** A candidate of a box-decoded SSD, in model-input pixels. */
export interface SsdCandidate {
  readonly box: ModelBox;
  readonly score: number;
}

/**
 * Reads an SSD whose graph already decoded its anchors: `boxes` holds (ymin, xmin, ymax, xmax) per
 * anchor as shares of the input, `scores` one probability per anchor. Boxes are clipped to the
 * input, and those left empty are dropped.
 */
export function decodeSsd(
  boxes: Float32Array,
  scores: Float32Array,
  inputWidth: number,
  inputHeight: number,
  minScore: number,
): SsdCandidate[] {
  const out: SsdCandidate[] = [];
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i]!;
    if (!(score >= minScore)) continue;
    const top = Math.max(0, boxes[i * 4]!) * inputHeight;
    const left = Math.max(0, boxes[i * 4 + 1]!) * inputWidth;
    const bottom = Math.min(1, boxes[i * 4 + 2]!) * inputHeight;
    const right = Math.min(1, boxes[i * 4 + 3]!) * inputWidth;
    if (right <= left || bottom <= top) continue;
    out.push({ box: modelBox(left, top, right - left, bottom - top), score });
  }
  return out;
}
