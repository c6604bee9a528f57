import { containment, iou, type Rect } from './geometry.ts';

export interface Scored<B extends Rect = Rect> {
  readonly box: B;
  readonly score: number;
}

export interface NmsOptions {
  /** Two boxes overlapping at least this IoU are the same object. */
  readonly iouThreshold: number;
  /** A box lying at least this share inside a better box is the same object (partial boxes at tile edges). */
  readonly containmentThreshold?: number;
}

function sameObject(a: Rect, b: Rect, options: NmsOptions): boolean {
  if (iou(a, b) >= options.iouThreshold) return true;
  const c = options.containmentThreshold;
  return c !== undefined && (containment(a, b) >= c || containment(b, a) >= c);
}

/** Greedy non-maximum suppression: keeps the best-scoring box of each group, best first. */
export function nms<T extends Scored>(items: readonly T[], options: NmsOptions): T[] {
  const sorted = [...items].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const item of sorted) {
    if (!kept.some((k) => sameObject(k.box, item.box, options))) kept.push(item);
  }
  return kept;
}

/**
 * Weighted NMS as in MediaPipe: each group's box is the score-weighted mean of its members'
 * boxes, and its score the best member's. Steadier boxes than greedy NMS for faces.
 */
export function weightedNms<T extends Scored>(items: readonly T[], options: NmsOptions): T[] {
  const remaining = [...items].sort((a, b) => b.score - a.score);
  const out: T[] = [];
  while (remaining.length > 0) {
    const best = remaining[0]!;
    const group: T[] = [];
    const rest: T[] = [];
    for (const item of remaining) (sameObject(best.box, item.box, options) ? group : rest).push(item);
    let wsum = 0;
    let x1 = 0;
    let y1 = 0;
    let x2 = 0;
    let y2 = 0;
    // Only near-duplicates are averaged: a partial box merged by containment must not shrink the result.
    for (const item of group) {
      if (iou(best.box, item.box) < options.iouThreshold) continue;
      wsum += item.score;
      x1 += item.box.x * item.score;
      y1 += item.box.y * item.score;
      x2 += (item.box.x + item.box.width) * item.score;
      y2 += (item.box.y + item.box.height) * item.score;
    }
    out.push({
      ...best,
      box: { ...best.box, x: x1 / wsum, y: y1 / wsum, width: (x2 - x1) / wsum, height: (y2 - y1) / wsum },
    });
    remaining.length = 0;
    remaining.push(...rest);
  }
  return out;
}

/** An ensemble's object: its best member, with the fused score and every box the models gave it. */
export type Fused<T extends Scored> = T & {
  /** The member boxes overlapping the best one at least `iouThreshold` (the best one included). */
  readonly sightings: readonly T['box'][];
};

/**
 * Combines the candidates of several models: boxes of different models overlapping at least
 * `iouThreshold` are one object whose score is the weighted noisy-or of each model's best score,
 * 1 - product of (1 - s) ^ weight, so agreement between models counts more than any single score.
 * The box is the one of the best-scoring member. With one model of weight 1 this is plain NMS.
 */
export function fuseEnsemble<T extends Scored>(
  perModel: readonly (readonly T[])[],
  options: NmsOptions & { readonly weights?: readonly number[] },
): Fused<T>[] {
  const all = perModel
    .flatMap((items, model) => items.map((item) => ({ item, model })))
    .sort((a, b) => b.item.score - a.item.score);
  const clusters: { best: T; bestByModel: Map<number, number>; sightings: T['box'][] }[] = [];
  for (const { item, model } of all) {
    const cluster = clusters.find((c) => sameObject(c.best.box, item.box, options));
    if (!cluster) {
      clusters.push({ best: item, bestByModel: new Map([[model, item.score]]), sightings: [item.box] });
      continue;
    }
    if (!cluster.bestByModel.has(model)) cluster.bestByModel.set(model, item.score);
    if (iou(cluster.best.box, item.box) >= options.iouThreshold) cluster.sightings.push(item.box);
  }
  return clusters.map(({ best, bestByModel, sightings }) => {
    let miss = 1;
    for (const [model, s] of bestByModel) miss *= (1 - s) ** (options.weights?.[model] ?? 1);
    return { ...best, score: 1 - miss, sightings };
  });
}
