import { type Locale, PRESETS, REDACTION_METHODS } from '@nestor/core';
import type { MessageKey } from '../messages/index.ts';
import { translate } from './translate.ts';

type StudioKey = MessageKey<'studio'>;

/** The options panel's label of each option it shows, by the option's API name (flat aliases too). */
const OPTION_LABELS: ReadonlyMap<string, StudioKey> = new Map([
  ['task', 'task'],
  ['targets', 'targets'],
  ['method', 'method'],
  ['preset', 'preset'],
  ['strength', 'strength'],
  ['minScore.face', 'thresholdFace'],
  ['faceThreshold', 'thresholdFace'],
  ['minScore.plate', 'thresholdPlate'],
  ['plateThreshold', 'thresholdPlate'],
  ['format', 'format'],
  ['quality', 'quality'],
  ['keepMetadata', 'keepMetadata'],
]);

/** The panel's label of each value it offers, by option then value. */
const VALUE_LABELS: ReadonlyMap<string, ReadonlyMap<string, StudioKey>> = new Map([
  [
    'task',
    new Map<string, StudioKey>([
      ['anonymize', 'taskAnonymize'],
      ['detect', 'taskDetect'],
    ]),
  ],
  [
    'targets',
    new Map<string, StudioKey>([
      ['face', 'labelFaces'],
      ['plate', 'labelPlates'],
    ]),
  ],
  ['method', new Map(REDACTION_METHODS.map((m) => [m, `method_${m}` as const]))],
  ['preset', new Map(PRESETS.map((p) => [p, `preset_${p}` as const]))],
  ['format', new Map<string, StudioKey>([['same', 'formatSame']])],
]);

/**
 * An option as the options panel labels it in `locale`, or its API name where the panel has none.
 * @example optionLabel('minScore.face', 'fr') // 'Seuil des visages'
 */
export function optionLabel(option: string, locale: Locale): string {
  const key = OPTION_LABELS.get(option);
  return key ? translate('studio', key, locale) : option;
}

/**
 * A value of `option` as the panel labels it (image formats in capitals, as the panel writes them).
 * @example valueLabel('format', 'same', 'de') // 'Wie die Eingabe'
 */
export function valueLabel(option: string, value: string, locale: Locale): string {
  const key = VALUE_LABELS.get(option)?.get(value);
  if (key) return translate('studio', key, locale);
  return option === 'format' ? value.toUpperCase() : value;
}
