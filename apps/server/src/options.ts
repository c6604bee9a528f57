import { invalidOption, type ProcessOptions, parseProcessOptions } from '@nestor/core';

const NUMBER_OPTIONS = new Set(['strength', 'quality', 'feather', 'iouThreshold']);
const JSON_OPTIONS = new Set(['addRegions', 'suppress']);
/** Flat names for the per-class thresholds (form fields and query strings have no nesting). */
const MIN_SCORE_NAMES: ReadonlyMap<string, 'face' | 'plate'> = new Map([
  ['minScore.face', 'face'],
  ['faceThreshold', 'face'],
  ['minScore.plate', 'plate'],
  ['plateThreshold', 'plate'],
]);

/** Every request option name the API accepts, as documented in OpenAPI. */
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

/**
 * Converts query-string or form fields (all strings) to `ProcessOptions` and validates them with
 * `parseProcessOptions`, so a bad value reads the same as in the CLI. Values that do not convert are
 * passed on as they are, for the validator to name.
 */
export function optionsFromFields(fields: Readonly<Record<string, unknown>>): ProcessOptions {
  const entries: [string, unknown][] = [];
  const minScore: [string, unknown][] = [];
  for (const [name, value] of Object.entries(fields)) {
    const label = MIN_SCORE_NAMES.get(name);
    if (label) minScore.push([label, toNumber(value)]);
    else if (NUMBER_OPTIONS.has(name)) entries.push([name, toNumber(value)]);
    else if (name === 'keepMetadata') entries.push([name, toBoolean(value)]);
    else if (name === 'targets') entries.push([name, toList(value)]);
    else if (JSON_OPTIONS.has(name)) entries.push([name, toJson(name, value)]);
    else entries.push([name, value]);
  }
  if (minScore.length > 0) entries.push(['minScore', Object.fromEntries(minScore)]);
  // fromEntries defines own properties, so a field named __proto__ is reported, not applied.
  return parseProcessOptions(Object.fromEntries(entries));
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
    throw invalidOption(name, 'a JSON array', value);
  }
}
