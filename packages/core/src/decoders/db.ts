import { type ModelBox, modelBox } from '../geometry.ts';

/** A text region found in a DB (Differentiable Binarization) probability map, in model-input pixels. */
export interface TextCandidate {
  readonly box: ModelBox;
  /** Mean probability over the region's pixels. */
  readonly score: number;
  /** Share of the (un-expanded) bounding box covered by the region's pixels. */
  readonly fill: number;
}

export interface DbOptions {
  /** Pixels with probability above this are text. */
  readonly binaryThreshold: number;
  /** Regions whose mean probability is below this are dropped. */
  readonly minScore: number;
  /** Polygon offset ratio: each side grows by area * ratio / perimeter (PaddleOCR's unclip). */
  readonly unclipRatio: number;
  /** Regions with a shorter side below this (map pixels) are dropped. */
  readonly minSide: number;
}

/**
 * Decodes a DB probability map (`width` x `height`, row-major) into axis-aligned text boxes:
 * threshold, 8-connected components, mean score, then PaddleOCR's unclip on the bounding box.
 */
export function decodeDb(
  map: Float32Array,
  width: number,
  height: number,
  options: DbOptions,
): TextCandidate[] {
  const labels = new Int32Array(width * height);
  const stack = new Int32Array(width * height);
  const out: TextCandidate[] = [];
  let next = 0;
  for (let start = 0; start < map.length; start++) {
    if (labels[start] !== 0 || !(map[start]! > options.binaryThreshold)) continue;
    next++;
    let top = 0;
    stack[top++] = start;
    labels[start] = next;
    let x0 = width;
    let y0 = height;
    let x1 = -1;
    let y1 = -1;
    let sum = 0;
    let count = 0;
    while (top > 0) {
      const p = stack[--top]!;
      const px = p % width;
      const py = (p - px) / width;
      sum += map[p]!;
      count++;
      if (px < x0) x0 = px;
      if (px > x1) x1 = px;
      if (py < y0) y0 = py;
      if (py > y1) y1 = py;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = py + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = px + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (labels[q] === 0 && map[q]! > options.binaryThreshold) {
            labels[q] = next;
            stack[top++] = q;
          }
        }
      }
    }
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    const score = sum / count;
    if (Math.min(w, h) < options.minSide || score < options.minScore) continue;
    const grow = (w * h * options.unclipRatio) / (2 * (w + h));
    out.push({
      box: modelBox(x0 - grow, y0 - grow, w + 2 * grow, h + 2 * grow),
      score,
      fill: count / (w * h),
    });
  }
  return out;
}
