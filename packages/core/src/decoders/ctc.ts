/** What a class outside a charset's table decodes to (CJK and other scripts a plate check does not read). */
export const PLACEHOLDER = '\uFFFD';

/** A CTC model's classes: how many, which one is blank, and the characters worth decoding. */
export interface CtcCharset {
  readonly classes: number;
  readonly blank: number;
  /** Class index → character; every class not listed decodes to PLACEHOLDER. */
  readonly table: ReadonlyMap<number, string>;
}

/** Builds a class table from groups of characters and their class indices, listed in the same order. */
function classTable(groups: readonly (readonly [string, readonly number[]])[]): ReadonlyMap<number, string> {
  const table = new Map<number, string>();
  for (const [chars, indices] of groups) {
    const list = [...chars];
    if (list.length !== indices.length)
      throw new Error(`charset group ${chars} has ${indices.length} indices`);
    for (const [i, c] of list.entries()) table.set(indices[i]!, c);
  }
  return table;
}

/**
 * PaddleOCR's `ppocr_keys_v1.txt` (6623 lines): class 0 is blank, class i is line i - 1, class 6624
 * is space. Kept: digits, Latin letters (full-width forms read as their ASCII twins), separators
 * and the ASCII symbols, which tell a plate check the text is something else.
 */
export const PPOCR_KEYS_V1: CtcCharset = {
  classes: 6625,
  blank: 0,
  table: classTable([
    ['0123456789', [26, 93, 25, 94, 632, 631, 933, 29, 27, 1109]],
    [
      'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
      [
        1221, 3588, 4244, 1220, 4381, 1219, 5128, 425, 3587, 2697, 5193, 3506, 3639, 3589, 4741, 1310, 4731,
        5127, 1217, 1381, 4497, 5405, 5033, 5200, 1218, 4136,
      ],
    ],
    [
      'abcdefghijklmnopqrstuvwxyz',
      [
        4544, 3463, 4902, 5171, 3332, 4389, 4548, 3539, 3538, 5493, 4849, 2710, 5233, 4547, 4245, 4545, 2156,
        1958, 1033, 3333, 1034, 4922, 3537, 2993, 4546, 3316,
      ],
    ],
    ['0123456789', [5742, 5739, 5878, 5740, 6118, 6117, 5879, 5743, 5825, 5741]],
    [
      'ABCDEFGHIKLMNOPRSTUVWYZ',
      [
        5694, 5725, 5833, 5831, 5827, 5835, 5692, 5826, 5693, 5822, 5724, 5834, 5696, 5823, 5828, 5824, 5832,
        5829, 6116, 5877, 5830, 6309, 6115,
      ],
    ],
    [
      'abcdefghijklmnoprstuz',
      [
        5898, 6334, 5894, 5935, 6308, 6332, 6337, 5992, 5893, 6339, 6336, 6346, 6335, 5934, 5896, 6307, 5897,
        6333, 5895, 6338, 6514,
      ],
    ],
    [' ·•—-', [6624, 5529, 5545, 5550, 6028]],
    [
      '\'->:],!|;./*()[@%"=?&<+^_}~\\$`#{',
      [
        1, 28, 31, 32, 33, 34, 166, 401, 402, 466, 487, 488, 721, 965, 1105, 1529, 1811, 1822, 1989, 2456,
        2854, 3490, 3573, 3626, 3627, 4078, 4128, 4428, 4885, 5335, 5461, 5489,
      ],
    ],
  ]),
};

/** CTC charsets by the name a model's decoder spec gives. */
export const CTC_CHARSETS = { 'ppocr-keys-v1': PPOCR_KEYS_V1 } as const;
export type CtcCharsetName = keyof typeof CTC_CHARSETS;

export interface CtcText {
  readonly text: string;
  /** Mean, over emitted characters, of the winning class probability (0 when nothing is emitted). */
  readonly confidence: number;
  /** Lowest winning probability of an emitted character (0 when nothing is emitted). */
  readonly minConfidence: number;
}

/**
 * Greedy CTC decoding of one sequence of `steps` x `charset.classes` probabilities (row-major):
 * argmax per step, repeats collapsed, blanks dropped.
 */
export function decodeCtc(probs: Float32Array, steps: number, charset: CtcCharset): CtcText {
  const classes = charset.classes;
  if (probs.length < steps * classes) {
    throw new RangeError(`CTC output has ${probs.length} values, expected ${steps} x ${classes}`);
  }
  let text = '';
  let sum = 0;
  let min = 1;
  let count = 0;
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const row = t * classes;
    let best = 0;
    let bestP = probs[row]!;
    for (let c = 1; c < classes; c++) {
      const p = probs[row + c]!;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== charset.blank && best !== previous) {
      text += charset.table.get(best) ?? PLACEHOLDER;
      sum += bestP;
      if (bestP < min) min = bestP;
      count++;
    }
    previous = best;
  }
  return count > 0
    ? { text, confidence: sum / count, minConfidence: min }
    : { text, confidence: 0, minConfidence: 0 };
}
