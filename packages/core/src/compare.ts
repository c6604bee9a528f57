import { LABELS, type Label } from './config.ts';
import type { Detection, DetectionResult } from './pipeline.ts';

/** Detections to compare: a whole result, or just its list. */
export type DetectionList = readonly Detection[] | Pick<DetectionResult, 'detections'>;

export interface CompareOptions {
  /** Largest distance (px) between matching box edges for two detections to agree. Default 2. */
  readonly tolerancePx?: number;
}

/** A detection of A paired with one of B (same label), and how far apart their boxes are. */
export interface DetectionPair {
  readonly label: Label;
  readonly a: Detection;
  readonly b: Detection;
  /** Largest of the four edge distances (left, top, right, bottom), in px. */
  readonly deltaPx: number;
  readonly withinTolerance: boolean;
}

export interface LabelComparison {
  readonly countA: number;
  readonly countB: number;
  /** Pairs whose boxes lie within the tolerance. */
  readonly matched: number;
}

export interface DetectionComparison {
  /** Same count per label and every detection paired within the tolerance. */
  readonly agree: boolean;
  readonly countA: number;
  readonly countB: number;
  readonly perLabel: Readonly<Record<Label, LabelComparison>>;
  /** Closest pairs first; includes pairs beyond the tolerance (they are the near misses). */
  readonly pairs: readonly DetectionPair[];
  /** Detections of A (B) left without a partner. */
  readonly unmatchedA: readonly Detection[];
  readonly unmatchedB: readonly Detection[];
  /** Largest edge distance over all pairs (0 when there are none). */
  readonly maxDeltaPx: number;
}

/**
 * Compares two engines' detections of one image: detections pair up greedily by label, closest
 * boxes first (distance = largest edge offset), so the result shows both disagreements in count and
 * how far the boxes that do correspond have moved. Manual regions compare like any other.
 */
export function compareDetections(
  a: DetectionList,
  b: DetectionList,
  options: CompareOptions = {},
): DetectionComparison {
  const tolerance = options.tolerancePx ?? 2;
  const listA = toList(a);
  const listB = toList(b);
  const pairs: DetectionPair[] = [];
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  const perLabel = {} as Record<Label, LabelComparison>;
  for (const label of LABELS) {
    const candidates: { i: number; j: number; delta: number }[] = [];
    listA.forEach((da, i) => {
      if (da.label !== label) return;
      listB.forEach((db, j) => {
        if (db.label === label) candidates.push({ i, j, delta: edgeDelta(da, db) });
      });
    });
    // Stable sort: equal distances keep list order, so the result is deterministic.
    candidates.sort((x, y) => x.delta - y.delta);
    let matched = 0;
    for (const c of candidates) {
      if (usedA.has(c.i) || usedB.has(c.j)) continue;
      usedA.add(c.i);
      usedB.add(c.j);
      const withinTolerance = c.delta <= tolerance;
      if (withinTolerance) matched++;
      pairs.push({ label, a: listA[c.i]!, b: listB[c.j]!, deltaPx: c.delta, withinTolerance });
    }
    perLabel[label] = {
      countA: listA.filter((d) => d.label === label).length,
      countB: listB.filter((d) => d.label === label).length,
      matched,
    };
  }
  pairs.sort((x, y) => x.deltaPx - y.deltaPx);
  const unmatchedA = listA.filter((_, i) => !usedA.has(i));
  const unmatchedB = listB.filter((_, j) => !usedB.has(j));
  return {
    agree: unmatchedA.length === 0 && unmatchedB.length === 0 && pairs.every((p) => p.withinTolerance),
    countA: listA.length,
    countB: listB.length,
    perLabel,
    pairs,
    unmatchedA,
    unmatchedB,
    maxDeltaPx: pairs.reduce((max, p) => Math.max(max, p.deltaPx), 0),
  };
}

function toList(list: DetectionList): readonly Detection[] {
  return 'detections' in list ? list.detections : list;
}

/** Largest offset between corresponding edges of the two boxes. */
function edgeDelta(a: Detection, b: Detection): number {
  const p = a.box;
  const q = b.box;
  return Math.max(
    Math.abs(p.x - q.x),
    Math.abs(p.y - q.y),
    Math.abs(p.x + p.width - (q.x + q.width)),
    Math.abs(p.y + p.height - (q.y + q.height)),
  );
}
