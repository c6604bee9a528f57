import { PLACEHOLDER } from './decoders/ctc.ts';

export type PlateTextReason =
  | 'plate'
  | 'length'
  | 'symbol'
  | 'unreadable'
  | 'no-digit'
  | 'lowercase'
  | 'low-confidence';

export interface PlateTextScore {
  /** 0 when a rule fails, else the recogniser's confidence lowered by soft penalties. */
  readonly score: number;
  /** Which rule decided: `plate`, or the first rule the text fails. */
  readonly reason: PlateTextReason;
}

/** What plate text looks like, whatever the country. */
export interface PlateTextRules {
  /** Characters between which plates put spaces, dashes, dots or stickers; removed before counting. */
  readonly separators: string;
  readonly minLength: number;
  readonly maxLength: number;
  /** Characters outside the recogniser's Latin table (a Chinese province, a sticker read as a glyph). */
  readonly maxPlaceholders: number;
  /** Letters only shaped differently in lower case (a, b, d…) that may be read in lower case. */
  readonly maxLowercase: number;
  /** Below this confidence the reading is noise, whatever it says. */
  readonly minConfidence: number;
}

export const PLATE_TEXT: PlateTextRules = {
  separators: ' -.·•—',
  minLength: 4,
  maxLength: 10,
  maxPlaceholders: 1,
  maxLowercase: 1,
  minConfidence: 0.5,
};

// Letters whose lower case is a smaller copy of the upper case: reading them small says nothing.
const SAME_SHAPE = new Set('cosuvwxz');

/**
 * How much a recognised string looks like a licence plate of any country (0..1).
 * A digit is required: it rejects most words (OPEN, TAXI, brand names) at the cost of letter-only
 * vanity plates and the letter-only line of a two-line plate (the digit line is then what is kept).
 */
export function plateTextScore(
  text: string,
  confidence: number,
  rules: PlateTextRules = PLATE_TEXT,
): PlateTextScore {
  const chars = [...text].filter((c) => !rules.separators.includes(c));
  let placeholders = 0;
  let digits = 0;
  let lowercase = 0;
  let symbols = 0;
  for (const c of chars) {
    if (c === PLACEHOLDER) placeholders++;
    else if (c >= '0' && c <= '9') digits++;
    else if (c >= 'a' && c <= 'z') {
      if (!SAME_SHAPE.has(c)) lowercase++;
    } else if (!(c >= 'A' && c <= 'Z')) symbols++;
  }
  const readable = chars.length - placeholders;
  if (symbols > 0) return { score: 0, reason: 'symbol' };
  if (placeholders > rules.maxPlaceholders) return { score: 0, reason: 'unreadable' };
  if (readable < rules.minLength || chars.length > rules.maxLength) return { score: 0, reason: 'length' };
  if (digits === 0) return { score: 0, reason: 'no-digit' };
  if (lowercase > rules.maxLowercase) return { score: 0, reason: 'lowercase' };
  if (confidence < rules.minConfidence) return { score: 0, reason: 'low-confidence' };
  const penalty = 0.9 ** (placeholders + lowercase);
  return { score: confidence * penalty, reason: 'plate' };
}
