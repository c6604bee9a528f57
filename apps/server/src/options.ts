import {
  invalidOption,
  NestorError,
  type OptionFacts,
  type ProcessOptions,
  parseProcessOptions,
} from '@nestor/core';

const NUMBER_OPTIONS = new Set(['strength', 'quality', 'feather', 'iouThreshold']);
const JSON_OPTIONS = new Set(['addRegions', 'suppress']);
/** Flat names for the per-class thresholds (form fields and query strings have no nesting). */
const MIN_SCORE_NAMES: ReadonlyMap<string, 'face' | 'plate'> = new Map([
  ['minScore.face', 'face'],
  ['faceThreshold', 'face'],
  ['minScore.plate', 'plate'],
  ['plateThreshold', 'plate'],
]);

/** The most a multipart text field may hold (the multipart plugin's `fieldSize`). */
export const FIELD_BYTES = 1024 * 1024;

/**
 * A multipart text field's value, refused when busboy cut it at `FIELD_BYTES`: it does so without
 * a word, and what is left would be misread.
 * @throws NestorError `E_INVALID_OPTION` naming the field
 */
export function fieldValue(part: { fieldname: string; value: unknown; valueTruncated: boolean }): unknown {
  if (!part.valueTruncated) return part.value;
  const option = part.fieldname.slice(0, 40);
  throw new NestorError('E_INVALID_OPTION', `The field "${option}" is longer than ${FIELD_BYTES} bytes`, {
    details: { option, reason: 'invalid' } satisfies OptionFacts,
  });
}

/** Every option name /v1/detect and /v1/anonymize accept, as documented in OpenAPI (`optionsProperties`). */
export const OPTION_NAMES = [
  'preset',
  'targets',
  'method',
  'strength',
  'feather',
  'minScore.face',
  'minScore.plate',
  'faceThreshold',
  'plateThreshold',
  'iouThreshold',
  'format',
  'quality',
  'keepMetadata',
  'addRegions',
  'suppress',
] as const;

/** Every option name POST /v1/jobs accepts (`jobOptionsProperties`): a job also names its task. */
export const JOB_OPTION_NAMES = ['task', ...OPTION_NAMES] as const;

/** The longest piece of a value an error message quotes (as readFields does for JSON bodies). */
const SHOWN_CHARS = 40;

/**
 * Converts query-string or form fields (all strings) to `ProcessOptions` and validates them with
 * `parseProcessOptions`, so a bad value reads the same as in the CLI. Values that do not convert are
 * passed on as they are, for the validator to name. A name outside `accepted` is refused, so an
 * option a route would ignore (`task` on /v1/detect) never looks applied.
 */
export function optionsFromFields(
  fields: Readonly<Record<string, unknown>>,
  accepted: readonly string[] = OPTION_NAMES,
): ProcessOptions {
  const entries: [string, unknown][] = [];
  const minScore: [string, unknown][] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (!accepted.includes(name)) {
      throw invalidOption(shortText(name), `a known option (${accepted.join(', ')})`, shorten(value), {
        reason: 'unknown',
      });
    }
    const label = MIN_SCORE_NAMES.get(name);
    if (label) minScore.push([label, toNumber(value)]);
    else if (NUMBER_OPTIONS.has(name)) entries.push([name, toNumber(value)]);
    else if (name === 'keepMetadata') entries.push([name, toBoolean(value)]);
    else if (name === 'targets') entries.push([name, toList(value)]);
    else if (JSON_OPTIONS.has(name)) entries.push([name, toJson(name, value)]);
    else entries.push([name, value]);
  }
  if (minScore.length > 0) entries.push(['minScore', Object.fromEntries(minScore)]);
  // No valid option holds a long string, so shortening them changes no verdict, only what an error quotes.
  return parseProcessOptions(shorten(Object.fromEntries(entries)));
}

/** `text` cut to SHOWN_CHARS characters (and marked so). */
function shortText(text: string): string {
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text;
}

/** `value` with every string in it shortened. */
function shorten(value: unknown): unknown {
  if (typeof value === 'string') return shortText(value);
  if (Array.isArray(value)) return value.map(shorten);
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so a key named __proto__ stays data.
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shorten(v)]));
  }
  return value;
}

function toNumber(value: unknown): unknown {
  if (typeof value !== 'string' || value.trim() === '') return value;
  const n = Number(value);
  return Number.isFinite(n) ? n : value;
}

function toBoolean(value: unknown): unknown {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return value;
}

function toList(value: unknown): unknown {
  const parts = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(parts) || !parts.every((p) => typeof p === 'string')) return value;
  return parts.flatMap((p) => p.split(',').map((s) => s.trim())).filter((s) => s !== '');
}

function toJson(name: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw invalidOption(name, 'a JSON array', shorten(value), { reason: 'type' });
  }
}
