import { describe, expect, it } from 'vitest';
import { type CtcCharset, decodeCtc, PLACEHOLDER, PPOCR_KEYS_V1 } from './ctc.ts';

/** A 6-class toy model: 0 blank, 1 'A', 2 '7', 3 '-', 4 unknown glyph, 5 space. */
const TOY: CtcCharset = {
  classes: 6,
  blank: 0,
  table: new Map([
    [1, 'A'],
    [2, '7'],
    [3, '-'],
    [5, ' '],
  ]),
};

/** One step per [winning class, its probability]; the rest is shared by the other classes. */
function steps(charset: CtcCharset, winners: readonly (readonly [number, number])[]): Float32Array {
  const out = new Float32Array(winners.length * charset.classes);
  winners.forEach(([cls, p], t) => {
    out.fill((1 - p) / (charset.classes - 1), t * charset.classes, (t + 1) * charset.classes);
    out[t * charset.classes + cls] = p;
  });
  return out;
}

describe('decodeCtc', () => {
  it.each([
    {
      name: 'nothing but blanks',
      winners: [
        [0, 0.9],
        [0, 0.8],
      ],
      text: '',
      mean: 0,
      min: 0,
    },
    { name: 'one character', winners: [[1, 0.8]], text: 'A', mean: 0.8, min: 0.8 },
    {
      name: 'repeats collapse',
      winners: [
        [1, 0.9],
        [1, 0.5],
        [2, 0.7],
      ],
      text: 'A7',
      mean: 0.8,
      min: 0.7,
    },
    {
      name: 'a blank separates repeats',
      winners: [
        [2, 0.6],
        [0, 0.9],
        [2, 0.8],
      ],
      text: '77',
      mean: 0.7,
      min: 0.6,
    },
    {
      name: 'blanks around',
      winners: [
        [0, 0.9],
        [1, 0.6],
        [0, 0.9],
        [3, 0.9],
        [2, 1],
      ],
      text: 'A-7',
      mean: 0.8333,
      min: 0.6,
    },
    {
      name: 'unknown class → placeholder',
      winners: [
        [4, 0.5],
        [2, 0.9],
      ],
      text: `${PLACEHOLDER}7`,
      mean: 0.7,
      min: 0.5,
    },
    {
      name: 'space',
      winners: [
        [1, 0.9],
        [5, 0.9],
        [2, 0.9],
      ],
      text: 'A 7',
      mean: 0.9,
      min: 0.9,
    },
  ] as const)('$name', ({ winners, text, mean, min }) => {
    const r = decodeCtc(steps(TOY, winners), winners.length, TOY);
    expect(r.text).toBe(text);
    expect(r.confidence).toBeCloseTo(mean, 4);
    expect(r.minConfidence).toBeCloseTo(min, 4);
  });

  it('reads only its own steps of a longer buffer', () => {
    const probs = steps(TOY, [
      [1, 0.9],
      [2, 0.9],
    ]);
    expect(decodeCtc(probs, 1, TOY).text).toBe('A');
  });

  it('rejects a buffer shorter than steps x classes', () => {
    expect(() => decodeCtc(new Float32Array(5), 1, TOY)).toThrow(RangeError);
  });
});

describe('PPOCR_KEYS_V1', () => {
  it.each([
    { name: 'digits', classes: [26, 93, 25, 94, 632, 631, 933, 29, 27, 1109], text: '0123456789' },
    { name: 'upper case', classes: [1221, 3588, 4244, 5200, 1218, 4136], text: 'ABCXYZ' },
    { name: 'lower case', classes: [4544, 3463, 4546, 3316], text: 'abyz' },
    { name: 'full-width forms as ASCII', classes: [5742, 5694, 6115, 6028], text: '0AZ-' },
    { name: 'space is the last class', classes: [1221, 6624, 93], text: 'A 1' },
    { name: 'separators', classes: [28, 466, 5529], text: '-.·' },
    { name: 'symbols', classes: [1811, 1529, 487], text: '%@/' },
    { name: 'CJK → placeholder', classes: [2, 6623], text: `${PLACEHOLDER}${PLACEHOLDER}` },
  ])('$name', ({ classes, text }) => {
    const winners = classes.flatMap((c) => [[c, 0.9] as const, [0, 0.9] as const]);
    expect(decodeCtc(steps(PPOCR_KEYS_V1, winners), winners.length, PPOCR_KEYS_V1).text).toBe(text);
  });

  it('indexes only real classes, blank excluded', () => {
    for (const index of PPOCR_KEYS_V1.table.keys()) {
      expect(index).toBeGreaterThan(PPOCR_KEYS_V1.blank);
      expect(index).toBeLessThan(PPOCR_KEYS_V1.classes);
    }
  });
});
