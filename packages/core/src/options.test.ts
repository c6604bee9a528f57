import { describe, expect, it } from 'vitest';
import { NestorError, type OptionFacts } from './errors.ts';
import { IMAGE_FORMATS } from './image.ts';
import { holdsAt, parseProcessOptions } from './options.ts';
import { outputFormat, pagesFormat } from './pipeline.ts';

/** The NestorError `run` throws. */
function thrownBy(run: () => unknown): NestorError {
  try {
    run();
  } catch (error) {
    if (error instanceof NestorError) return error;
    throw error;
  }
  throw new Error('nothing was refused');
}

const refusal = (input: unknown) => thrownBy(() => parseProcessOptions(input));

describe('parseProcessOptions: every refused option names itself in details', () => {
  it.each<{ input: unknown; details: OptionFacts }>([
    {
      input: { method: 'swirl' },
      details: { option: 'method', reason: 'choice', allowed: ['gaussian', 'pixelate', 'solid', 'adaptive'] },
    },
    {
      input: { format: 'bmp' },
      details: { option: 'format', reason: 'choice', allowed: ['same', ...IMAGE_FORMATS] },
    },
    { input: { quality: 0 }, details: { option: 'quality', reason: 'range', minimum: 1 } },
    { input: { quality: 101 }, details: { option: 'quality', reason: 'range', maximum: 100 } },
    { input: { quality: 50.5 }, details: { option: 'quality', reason: 'type' } },
    { input: { strength: 'strong' }, details: { option: 'strength', reason: 'type' } },
    { input: { feather: 0.9 }, details: { option: 'feather', reason: 'range', maximum: 0.5 } },
    { input: { minScore: { face: 2 } }, details: { option: 'minScore.face', reason: 'range', maximum: 1 } },
    {
      input: { minScore: { plate: -1 } },
      details: { option: 'minScore.plate', reason: 'range', minimum: 0 },
    },
    { input: { minScore: 0.5 }, details: { option: 'minScore', reason: 'type' } },
    { input: { keepMetadata: 'yes' }, details: { option: 'keepMetadata', reason: 'type' } },
    { input: { targets: [] }, details: { option: 'targets', reason: 'invalid' } },
    {
      input: { targets: ['face', 'cat'] },
      details: { option: 'targets', reason: 'choice', allowed: ['face', 'plate'] },
    },
    // A field inside a list item: the option is the list, and the item's bound would mislead.
    {
      input: { addRegions: [{ x: 0, y: 0, width: -5, height: 5, label: 'face' }] },
      details: { option: 'addRegions', reason: 'invalid' },
    },
    { input: { suppress: 'everywhere' }, details: { option: 'suppress', reason: 'type' } },
    {
      input: { suppress: [{ x: 0, y: 0, width: 5, height: 5, fromMs: 2000, toMs: 1000 }] },
      details: { option: 'suppress', reason: 'invalid' },
    },
    {
      input: { addRegions: [{ x: 0, y: 0, width: 5, height: 5, label: 'face', fromMs: -1 }] },
      details: { option: 'addRegions', reason: 'invalid' },
    },
    { input: { colour: 'red' }, details: { option: 'colour', reason: 'unknown' } },
    { input: { ['n'.repeat(100)]: 1 }, details: { option: 'n'.repeat(40), reason: 'unknown' } },
    { input: 'fast', details: { option: 'options', reason: 'type' } },
  ])('$input', ({ input, details }) => {
    const error = refusal(input);
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.details).toEqual(details);
  });

  it('says why a time span is refused', () => {
    expect(
      refusal({ addRegions: [{ x: 0, y: 0, width: 5, height: 5, label: 'face', fromMs: 9, toMs: 3 }] })
        .message,
    ).toBe('Expected a time not before fromMs for addRegions.0.toMs but received 3 of type number');
  });

  it('keeps the one message format', () => {
    expect(refusal({ minScore: { face: 2 } }).message).toBe(
      'Expected a value of at most 1 for minScore.face but received 2 of type number',
    );
  });
});

describe('an output format the input cannot be written in', () => {
  it.each<{ run: () => unknown; details: OptionFacts }>([
    {
      run: () => outputFormat('jpeg', 'gif', true),
      details: { option: 'format', reason: 'choice', allowed: ['same', 'gif', 'webp'] },
    },
    {
      run: () => pagesFormat('png'),
      details: { option: 'format', reason: 'choice', allowed: ['same', 'tiff'] },
    },
  ])('$details.allowed', ({ run, details }) => {
    expect(thrownBy(run).details).toEqual(details);
  });
});

describe('holdsAt: when a video region holds', () => {
  it.each([
    { span: {}, timeMs: 0, holds: true },
    { span: {}, timeMs: 9e9, holds: true },
    { span: { fromMs: 1000 }, timeMs: 999, holds: false },
    { span: { fromMs: 1000 }, timeMs: 1000, holds: true },
    { span: { toMs: 2000 }, timeMs: 2000, holds: true },
    { span: { toMs: 2000 }, timeMs: 2001, holds: false },
    { span: { fromMs: 1000, toMs: 1000 }, timeMs: 1000, holds: true },
  ])('$span at $timeMs ms: $holds', ({ span, timeMs, holds }) => {
    expect(holdsAt(span, timeMs)).toBe(holds);
  });
});
