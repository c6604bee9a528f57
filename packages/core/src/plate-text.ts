export type PlateTextReason =
  | 'plate'
  | 'empty'
  | 'length'
  | 'symbol'
  | 'unreadable'
  | 'no-digit'
  | 'number'
  | 'lowercase'
  | 'low-confidence';

export interface PlateTextScore {
  /** 0 when a rule fails, else the recogniser's confidence lowered by soft penalties. */
  readonly score: number;
  /** `plate`, or the first rule the text fails. */
  readonly reason: PlateTextReason;
}

/** What plate text looks like, whatever the country. */
export interface PlateTextRules {
  /** Removed before counting: plates put spaces, dashes or dots between groups. */
  readonly separators: string;
  /** Symbols of prices, addresses, phone numbers and prose, never read off a plate. */
  readonly foreign: string;
  /** Letters and digits, after separators are removed. */
  readonly minLength: number;
  readonly maxLength: number;
  /**
   * Other characters tolerated: a province character or country band read as a CJK glyph, a
   * sticker or bolt read as `*`, `:` or `=`.
   */
  readonly maxOther: number;
  /** Letters whose lower case has its own shape (a, b, d…) read in lower case: signs and prose. */
  readonly maxLowercase: number;
  /** A plate of digits only has at most this many (longer runs are phone, account or ID numbers). */
  readonly maxDigitsOnly: number;
  /** Below this the reading is noise, whatever it says. */
  readonly minConfidence: number;
  /** Letters only, upper case, this long: vanity and older plates (a short word like OPEN is not). */
  readonly lettersOnly: { readonly minLength: number; readonly maxLength: number; readonly penalty: number };
}

export const PLATE_TEXT: PlateTextRules = {
  separators: ' -.·•—',
  foreign: '%@/+&$#,!?',
  minLength: 4,
  maxLength: 10,
  maxOther: 1,
  maxLowercase: 0,
  maxDigitsOnly: 8,
  minConfidence: 0.3,
  lettersOnly: { minLength: 5, maxLength: 8, penalty: 0.8 },
};

// Lower case that is a smaller upper case says nothing about the text: plates are read this way too.
const SAME_SHAPE = new Set('cosuvwxz');
// A camera's date stamp: a year then a separator, digits only.
const DATE = /^(19|20)\d\d[^0-9]/;

/**
 * How much a recognised string looks like a licence plate of any country, 0..1.
 * Text without a digit passes only as 5 to 8 upper-case letters (vanity plates, measured on the dev
 * set): short words (OPEN, TAXI) and prose are rejected, a few upper-case brand badges are not.
 * Digits alone are a plate only when short and without symbols.
 */
export function plateTextScore(
  text: string,
  confidence: number,
  rules: PlateTextRules = PLATE_TEXT,
): PlateTextScore {
  let letters = 0;
  let digits = 0;
  let lowercase = 0;
  let other = 0;
  let foreign = 0;
  for (const c of text) {
    if (rules.separators.includes(c)) continue;
    if (c >= '0' && c <= '9') digits++;
    else if (c >= 'A' && c <= 'Z') letters++;
    else if (c >= 'a' && c <= 'z') {
      letters++;
      if (!SAME_SHAPE.has(c)) lowercase++;
    } else if (rules.foreign.includes(c)) foreign++;
    else other++;
  }
  const length = letters + digits;
  const fail = (reason: PlateTextReason): PlateTextScore => ({ score: 0, reason });
  if (text.trim() === '') return fail('empty');
  if (foreign > 0) return fail('symbol');
  if (other > rules.maxOther) return fail('unreadable');
  if (length < rules.minLength || length + other > rules.maxLength) return fail('length');
  const lettersOnly = digits === 0;
  if (lettersOnly && (length < rules.lettersOnly.minLength || length > rules.lettersOnly.maxLength)) {
    return fail('no-digit');
  }
  if (letters === 0 && (other > 0 || digits > rules.maxDigitsOnly || DATE.test(text.trim()))) {
    return fail('number');
  }
  if (lowercase > rules.maxLowercase) return fail('lowercase');
  if (confidence < rules.minConfidence) return fail('low-confidence');
  const penalty = lettersOnly ? rules.lettersOnly.penalty : 1;
  return { score: confidence * penalty * 0.9 ** other, reason: 'plate' };
}
