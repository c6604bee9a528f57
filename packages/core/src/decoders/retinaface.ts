import { type ModelBox, modelBox } from '../geometry.ts';

/** A face RetinaFace proposed, in model-input pixels. */
export interface RetinaFaceCandidate {
  readonly box: ModelBox;
  readonly score: number;
}

/** One RetinaFace level: a feature map at `stride` input pixels with one square anchor per size. */
export interface RetinaFaceLevel {
  readonly stride: number;
  /** Anchor sides in input pixels, in the order of the head's channels. */
  readonly anchorSizes: readonly number[];
}

/**
 * Reads one RetinaFace level (insightface layout). `scores` is [1, 2A, H, W] softmax output whose
 * first A channels are background and last A face; `deltas` is [1, 4A, H, W] holding (dx, dy, dw,
 * dh) per anchor. Anchor a in cell (row, col) is centred at (col * stride + 8, row * stride + 8),
 * insightface's 16-pixel base anchor, and the box is decoded as in Faster R-CNN. Boxes are clipped
 * to the input; those left empty are dropped.
 */
export function decodeRetinaFaceLevel(
  scores: Float32Array,
  deltas: Float32Array,
  gridWidth: number,
  gridHeight: number,
  level: RetinaFaceLevel,
  input: { readonly width: number; readonly height: number },
  minScore: number,
): RetinaFaceCandidate[] {
  const cells = gridWidth * gridHeight;
  const anchors = level.anchorSizes.length;
  const out: RetinaFaceCandidate[] = [];
  for (let a = 0; a < anchors; a++) {
    const size = level.anchorSizes[a]!;
    const scoreBase = (anchors + a) * cells;
    const deltaBase = a * 4 * cells;
    for (let cell = 0; cell < cells; cell++) {
      const score = scores[scoreBase + cell]!;
      if (!(score >= minScore)) continue;
      const cx = (cell % gridWidth) * level.stride + 8 + deltas[deltaBase + cell]! * size;
      const cy = Math.floor(cell / gridWidth) * level.stride + 8 + deltas[deltaBase + cells + cell]! * size;
      const w = Math.exp(deltas[deltaBase + 2 * cells + cell]!) * size;
      const h = Math.exp(deltas[deltaBase + 3 * cells + cell]!) * size;
      const left = Math.max(0, cx - w / 2);
      const top = Math.max(0, cy - h / 2);
      const right = Math.min(input.width, cx + w / 2);
      const bottom = Math.min(input.height, cy + h / 2);
      if (!(right > left && bottom > top)) continue;
      out.push({ box: modelBox(left, top, right - left, bottom - top), score });
    }
  }
  return out;
}
