import { describe, expect, it } from 'vitest';
import { invalidOption, NestorError, type OptionFacts, optionFacts } from './errors.ts';

describe('invalidOption', () => {
  it.each([
    {
      call: () => invalidOption('quality', 'a value of at most 100', 500, { reason: 'range', maximum: 100 }),
      message: 'Expected a value of at most 100 for quality but received 500 of type number',
      details: { option: 'quality', reason: 'range', maximum: 100 },
    },
    {
      call: () =>
        invalidOption('format', 'one of "same", "tiff"', 'png', {
          reason: 'choice',
          allowed: ['same', 'tiff'],
        }),
      message: 'Expected one of "same", "tiff" for format but received "png" of type string',
      details: { option: 'format', reason: 'choice', allowed: ['same', 'tiff'] },
    },
    {
      call: () => invalidOption('timeoutMs', 'a number of ms ≥ 0', -1),
      message: 'Expected a number of ms ≥ 0 for timeoutMs but received -1 of type number',
      details: { option: 'timeoutMs', reason: 'invalid' },
    },
    {
      call: () =>
        invalidOption('options', 'no unknown option (colour)', {}, { option: 'colour', reason: 'unknown' }),
      message: 'Expected no unknown option (colour) for options but received [object Object] of type object',
      details: { option: 'colour', reason: 'unknown' },
    },
  ])('$details.option: the one message format, and its facts in details', ({ call, message, details }) => {
    const error = call();
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.message).toBe(message);
    expect(error.details).toEqual(details);
  });

  it('never puts the value received in details', () => {
    const secret = 'x'.repeat(10_000);
    expect(JSON.stringify(invalidOption('method', 'one of "solid"', secret).details)).not.toContain('xxx');
  });
});

describe('optionFacts', () => {
  it.each<{ details: unknown; want: OptionFacts | undefined }>([
    { details: undefined, want: undefined },
    { details: 'format', want: undefined },
    { details: { reason: 'range' }, want: undefined },
    { details: { option: '' }, want: undefined },
    { details: { option: 'strength' }, want: { option: 'strength', reason: 'invalid' } },
    {
      details: { option: 'quality', reason: 'range', minimum: 1, status: 400, code: 'E_INVALID_OPTION' },
      want: { option: 'quality', reason: 'range', minimum: 1 },
    },
    {
      details: { option: 'format', reason: 'choice', allowed: ['same', 'tiff'] },
      want: { option: 'format', reason: 'choice', allowed: ['same', 'tiff'] },
    },
    {
      details: {
        option: 'format',
        reason: 'why not',
        allowed: ['same', 2],
        minimum: '1',
        maximum: Number.NaN,
      },
      want: { option: 'format', reason: 'invalid' },
    },
  ])('$details → $want', ({ details, want }) => {
    expect(optionFacts(details)).toEqual(want);
  });
});

describe('NestorError as JSON (threads and queues)', () => {
  it.each([
    {
      name: 'a refused option keeps its facts',
      error: invalidOption('format', 'one of "same", "tiff"', 'jpeg', {
        reason: 'choice',
        allowed: ['same', 'tiff'],
      }),
      details: { option: 'format', reason: 'choice', allowed: ['same', 'tiff'] },
    },
    {
      name: 'other details stay behind',
      error: new NestorError('E_UNSUPPORTED_MEDIA', 'animated', { details: { animatedFrames: 3 } }),
      details: undefined,
    },
  ])('$name', ({ error, details }) => {
    const json = JSON.parse(JSON.stringify(error)) as ReturnType<NestorError['toJSON']>;
    expect(json).toEqual({ code: error.code, message: error.message, ...(details ? { details } : {}) });
    const back = NestorError.fromJSON(json);
    expect([back.code, back.message, back.details]).toEqual([error.code, error.message, details]);
  });
});
