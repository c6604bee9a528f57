import { type ModelBox, modelBox } from '../geometry.ts';

/** One SSD feature map of a BlazeFace-family model: a square grid with `anchorsPerCell` anchors per cell. */
export interface AnchorLayer {
  readonly gridSize: number;
  readonly anchorsPerCell: number;
}

/** Anchor centres in normalised [0, 1] coordinates, in the model's output order (layer, row, column, anchor). */
export function blazeAnchors(layers: readonly AnchorLayer[]): Float32Array {
  const total = layers.reduce((n, l) => n + l.gridSize * l.gridSize * l.anchorsPerCell, 0);
  const out = new Float32Array(total * 2);
  let i = 0;
  for (const { gridSize, anchorsPerCell } of layers) {
    for (let y = 0; y < gridSize; y++) {
      for (let x = 0; x < gridSize; x++) {
        for (let a = 0; a < anchorsPerCell; a++) {
          out[i++] = (x + 0.5) / gridSize;
          out[i++] = (y + 0.5) / gridSize;
        }
      }
    }
  }
  return out;
}

/** A face candidate in model-input pixels, with the six BlazeFace keypoints (eyes, nose, mouth, ears). */
export interface BlazeCandidate {
  readonly box: ModelBox;
  readonly score: number;
  readonly keypoints: readonly (readonly [number, number])[];
}

/**
 * Decodes BlazeFace outputs: `scores` are logits (one per anchor), `regressors` hold 4 box values
 * (centre offset, size) then 6 keypoint pairs per anchor, all in input pixels relative to the anchor.
 * Logits are clipped to +-100 as MediaPipe does before the sigmoid.
 */
export function decodeBlazeFace(
  scores: Float32Array,
  regressors: Float32Array,
  anchors: Float32Array,
  inputSize: number,
  minScore: number,
  valuesPerAnchor = 16,
): BlazeCandidate[] {
  const out: BlazeCandidate[] = [];
  const count = anchors.length / 2;
  const minLogit = Math.log(minScore / (1 - minScore));
  for (let a = 0; a < count; a++) {
    const logit = Math.max(-100, Math.min(100, scores[a]!));
    if (logit < minLogit) continue;
    const r = a * valuesPerAnchor;
    const cx = anchors[2 * a]! * inputSize + regressors[r]!;
    const cy = anchors[2 * a + 1]! * inputSize + regressors[r + 1]!;
    const w = regressors[r + 2]!;
    const h = regressors[r + 3]!;
    if (!(w > 0 && h > 0)) continue;
    const keypoints: [number, number][] = [];
    for (let k = 4; k + 1 < valuesPerAnchor; k += 2) {
      keypoints.push([
        anchors[2 * a]! * inputSize + regressors[r + k]!,
        anchors[2 * a + 1]! * inputSize + regressors[r + k + 1]!,
      ]);
    }
    out.push({ box: modelBox(cx - w / 2, cy - h / 2, w, h), score: 1 / (1 + Math.exp(-logit)), keypoints });
  }
  return out;
}
