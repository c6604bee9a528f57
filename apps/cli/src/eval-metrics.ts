import type { Detection } from '@nestor/core';

/**
 * Detection metrics, computed exactly as ../shared/tools/eval.mjs does (the team's yardstick):
 * recall by IoU >= 0.3 (greedy by score), recall by >= 70% coverage of each ground-truth box by
 * the union of predicted regions, and precision on images whose labelling is complete.
 */
export interface XYWH {
  x: number;
  y: number;
  w: number;
  h: number;
}
export interface GroundTruthImage {
  file: string;
  width?: number;
  height?: number;
  source?: string;
  complete?: boolean;
  boxes: (XYWH & { label: string })[];
}
export interface Prediction extends XYWH {
  label: string;
  score: number;
  region?: XYWH;
}

/** A detection of the shared schema as eval.mjs reads it (x, y, w, h and the redacted region). */
export function toPrediction(d: Detection): Prediction {
  return {
    label: d.label,
    score: d.score,
    x: d.box.x,
    y: d.box.y,
    w: d.box.width,
    h: d.box.height,
    region: { x: d.region.x, y: d.region.y, w: d.region.width, h: d.region.height },
  };
}

export interface LabelMetrics {
  gt_boxes: number;
  recall_iou30: number;
  recall_cover70: number;
  precision_complete: number | null;
  fp_per_complete_image: number | null;
  images_without_prediction_entry: number;
  cover70_by_size: Record<string, string>;
  cover70_by_source: Record<string, string>;
}

const iou = (a: XYWH, b: XYWH): number => {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.w, b.x + b.w);
  const y2 = Math.min(a.y + a.h, b.y + b.h);
  const i = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  return i / (a.w * a.h + b.w * b.h - i || 1);
};
const inside = (p: XYWH, g: XYWH): number => {
  const x1 = Math.max(p.x, g.x);
  const y1 = Math.max(p.y, g.y);
  const x2 = Math.min(p.x + p.w, g.x + g.w);
  const y2 = Math.min(p.y + p.h, g.y + g.h);
  return (Math.max(0, x2 - x1) * Math.max(0, y2 - y1)) / (p.w * p.h || 1);
};
/** Share of `g` covered by the union of `ps`, sampled on a 64x64 grid of cell centres. */
export const coveredShare = (g: XYWH, ps: readonly XYWH[]): number => {
  const n = 64;
  const sx = g.w / n;
  const sy = g.h / n;
  let hit = 0;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const cx = g.x + (i + 0.5) * sx;
      const cy = g.y + (j + 0.5) * sy;
      if (ps.some((p) => cx >= p.x && cx <= p.x + p.w && cy >= p.y && cy <= p.y + p.h)) hit++;
    }
  }
  return hit / (n * n);
};

interface Tally {
  gt: number;
  hitIou: number;
  hitCover: number;
  pred: number;
  tp: number;
  completeImages: number;
  missing: number;
  bySize: Record<string, { gt: number; hit: number }>;
  bySource: Record<string, { gt: number; hit: number }>;
}

function bucketOf(
  map: Record<string, { gt: number; hit: number }>,
  key: string,
): { gt: number; hit: number } {
  const existing = map[key];
  if (existing) return existing;
  const created = { gt: 0, hit: 0 };
  map[key] = created;
  return created;
}

/** One label of one image, with eval.mjs's greedy IoU matching done. */
interface LabelMatch {
  readonly img: GroundTruthImage;
  readonly label: string;
  readonly truths: GroundTruthImage['boxes'];
  /** This label's predictions, best score first. */
  readonly mine: readonly Prediction[];
  /** Indices into `truths` matched at IoU >= 0.3. */
  readonly used: ReadonlySet<number>;
  /** Indices into `mine` that matched a truth. */
  readonly matched: ReadonlySet<number>;
}

function* matchLabels(
  images: readonly GroundTruthImage[],
  predictions: Readonly<Record<string, readonly Prediction[]>>,
): Generator<LabelMatch> {
  for (const img of images) {
    const ps = predictions[img.file] ?? [];
    for (const label of new Set(img.boxes.map((b) => b.label))) {
      const truths = img.boxes.filter((b) => b.label === label);
      const mine = ps.filter((p) => p.label === label).sort((a, b) => (b.score ?? 0) - (a.score ?? 0));
      const used = new Set<number>();
      const matched = new Set<number>();
      for (const [pi, p] of mine.entries()) {
        let best = -1;
        let bestIou = 0.3;
        for (const [gi, g] of truths.entries()) {
          if (used.has(gi)) continue;
          const v = iou(p, g);
          if (v >= bestIou) {
            bestIou = v;
            best = gi;
          }
        }
        if (best >= 0) {
          used.add(best);
          matched.add(pi);
        }
      }
      yield { img, label, truths, mine, used, matched };
    }
  }
}

/** Whether a prediction on a complete image counts for precision: matched, or mostly inside a labelled box. */
const isTruePositive = (m: LabelMatch, pi: number): boolean =>
  m.matched.has(pi) || m.truths.some((g) => inside(m.mine[pi]!, g) >= 0.5);

const COVERED = 0.7;

export function scoreDetections(
  images: readonly GroundTruthImage[],
  predictions: Readonly<Record<string, readonly Prediction[]>>,
  minSide = 10,
): Record<string, LabelMetrics> {
  const stats: Record<string, Tally> = {};
  const tally = (l: string): Tally =>
    (stats[l] ??= {
      gt: 0,
      hitIou: 0,
      hitCover: 0,
      pred: 0,
      tp: 0,
      completeImages: 0,
      missing: 0,
      bySize: {},
      bySource: {},
    });
  for (const img of images) {
    if (img.file in predictions) continue;
    for (const l of new Set(img.boxes.map((b) => b.label))) tally(l).missing++;
  }
  for (const m of matchLabels(images, predictions)) {
    const s = tally(m.label);
    const regions = m.mine.map((p) => p.region ?? p);
    for (const [gi, g] of m.truths.entries()) {
      const side = Math.min(g.w, g.h);
      if (side < minSide) continue;
      const bucket = side < 24 ? 'small(<24)' : side < 64 ? 'medium(24-64)' : 'large(>=64)';
      const b = bucketOf(s.bySize, bucket);
      const src = bucketOf(s.bySource, (m.img.source ?? '?').split(':')[0]!);
      s.gt++;
      b.gt++;
      src.gt++;
      if (m.used.has(gi)) s.hitIou++;
      if (coveredShare(g, regions) >= COVERED) {
        s.hitCover++;
        b.hit++;
        src.hit++;
      }
    }
    if (m.img.complete) {
      s.completeImages++;
      s.pred += m.mine.length;
      for (const pi of m.mine.keys()) if (isTruePositive(m, pi)) s.tp++;
    }
  }
  const ratio = (v: { gt: number; hit: number }) => `${v.hit}/${v.gt} = ${(v.hit / v.gt).toFixed(3)}`;
  const sorted = (o: Record<string, { gt: number; hit: number }>) =>
    Object.fromEntries(
      Object.entries(o)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, ratio(v)]),
    );
  const out: Record<string, LabelMetrics> = {};
  for (const [label, s] of Object.entries(stats)) {
    out[label] = {
      gt_boxes: s.gt,
      recall_iou30: +(s.hitIou / s.gt).toFixed(4),
      recall_cover70: +(s.hitCover / s.gt).toFixed(4),
      precision_complete: s.pred ? +(s.tp / s.pred).toFixed(4) : null,
      fp_per_complete_image: s.completeImages ? +((s.pred - s.tp) / s.completeImages).toFixed(3) : null,
      images_without_prediction_entry: s.missing,
      cover70_by_size: sorted(s.bySize),
      cover70_by_source: sorted(s.bySource),
    };
  }
  return out;
}

/** A detection error to look at: a false positive (on a complete image) or a labelled box left uncovered. */
export interface ReviewCase {
  readonly kind: 'false-positive' | 'miss';
  readonly file: string;
  readonly label: string;
  /** The prediction's box (false positive) or the labelled box (miss). */
  readonly box: XYWH;
  /** The prediction's score, or the share of the labelled box the predicted regions cover. */
  readonly value: number;
  /** The same label's labelled boxes and predicted regions in that image, for context. */
  readonly truths: readonly XYWH[];
  readonly regions: readonly XYWH[];
}

/**
 * Every error behind the metrics of `scoreDetections`, with the same rules: the predictions that
 * count against precision and the labelled boxes (short side >= minSide) that recall_cover70 misses.
 */
export function reviewCases(
  images: readonly GroundTruthImage[],
  predictions: Readonly<Record<string, readonly Prediction[]>>,
  minSide = 10,
): ReviewCase[] {
  const cases: ReviewCase[] = [];
  for (const m of matchLabels(images, predictions)) {
    const regions = m.mine.map((p) => p.region ?? p);
    const context = {
      file: m.img.file,
      label: m.label,
      truths: m.truths.map(box),
      regions: regions.map(box),
    };
    if (m.img.complete) {
      for (const [pi, p] of m.mine.entries()) {
        if (isTruePositive(m, pi)) continue;
        cases.push({ ...context, kind: 'false-positive', box: box(p), value: p.score });
      }
    }
    for (const g of m.truths) {
      if (Math.min(g.w, g.h) < minSide) continue;
      const share = coveredShare(g, regions);
      if (share < COVERED) cases.push({ ...context, kind: 'miss', box: box(g), value: share });
    }
  }
  return cases;
}

const box = (b: XYWH): XYWH => ({ x: b.x, y: b.y, w: b.w, h: b.h });
