import { type ModelBox, modelBox } from '../geometry.ts';

/** An object a box-decoded CenterNet found, in model-input pixels. */
export interface CenterNetObject {
  readonly box: ModelBox;
  readonly score: number;
  /** COCO class id (0 person, 2 car, 3 motorcycle, 5 bus, 7 truck…). */
  readonly classId: number;
}

/**
 * Reads a CenterNet whose graph already decoded its heatmap: `rows` holds (x1, y1, x2, y2, score,
 * class) per object, corners in input pixels. Keeps the wanted classes at or above `minScore`,
 * clipped to the input; boxes left empty are dropped.
 */
export function decodeCenterNet(
  rows: Float32Array,
  options: {
    readonly classes: readonly number[];
    readonly minScore: number;
    readonly inputWidth: number;
    readonly inputHeight: number;
  },
): CenterNetObject[] {
  const out: CenterNetObject[] = [];
  for (let i = 0; i + 6 <= rows.length; i += 6) {
    const score = rows[i + 4]!;
    const classId = Math.round(rows[i + 5]!);
    if (!(score >= options.minScore) || !options.classes.includes(classId)) continue;
    const left = Math.max(0, rows[i]!);
    const top = Math.max(0, rows[i + 1]!);
    const right = Math.min(options.inputWidth, rows[i + 2]!);
    const bottom = Math.min(options.inputHeight, rows[i + 3]!);
    if (!(right > left && bottom > top)) continue;
    out.push({ box: modelBox(left, top, right - left, bottom - top), score, classId });
  }
  return out;
}
