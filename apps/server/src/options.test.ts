import { describe, expect, it } from 'vitest';
import { JOB_OPTION_NAMES, optionsFromFields } from './options.ts';

describe('optionsFromFields', () => {
  it('converts string fields to the types of ProcessOptions', () => {
    expect(
      optionsFromFields({
        method: 'pixelate',
        strength: '1.5',
        quality: '70',
        keepMetadata: 'true',
        targets: 'face, plate',
        faceThreshold: '0.4',
        'minScore.plate': '0.8',
        suppress: '[{"x":0,"y":0,"width":5,"height":5}]',
      }),
    ).toEqual({
      method: 'pixelate',
      strength: 1.5,
      quality: 70,
      keepMetadata: true,
      targets: ['face', 'plate'],
      minScore: { face: 0.4, plate: 0.8 },
      suppress: [{ x: 0, y: 0, width: 5, height: 5 }],
    });
    expect(optionsFromFields({ targets: ['face', 'plate'], keepMetadata: '0' })).toEqual({
      targets: ['face', 'plate'],
      keepMetadata: false,
    });
  });

  it('reports bad values with the one message format', () => {
    expect(() => optionsFromFields({ quality: 'high' })).toThrow(
      'Expected a number for quality but received "high" of type string',
    );
    expect(() => optionsFromFields({ keepMetadata: 'yes' })).toThrow(
      'Expected a boolean for keepMetadata but received "yes" of type string',
    );
    expect(() => optionsFromFields({ plateThreshold: '2' })).toThrow(/for minScore\.plate/);
    expect(() => optionsFromFields({ addRegions: 'nope' })).toThrow(
      'Expected a JSON array for addRegions but received "nope" of type string',
    );
    expect(() => optionsFromFields({ ['__proto__']: 'x' })).toThrow(
      /^Expected a known option \(.*\) for __proto__/,
    );
  });

  it.each([
    { fields: { quality: 'high' }, details: { option: 'quality', reason: 'type' } },
    { fields: { plateThreshold: '2' }, details: { option: 'minScore.plate', reason: 'range', maximum: 1 } },
    { fields: { 'minScore.face': '-1' }, details: { option: 'minScore.face', reason: 'range', minimum: 0 } },
    { fields: { addRegions: 'nope' }, details: { option: 'addRegions', reason: 'type' } },
    {
      fields: { preset: 'slow' },
      details: { option: 'preset', reason: 'choice', allowed: ['fast', 'balanced', 'thorough'] },
    },
    { fields: { task: 'detect' }, details: { option: 'task', reason: 'unknown' } },
    { fields: { ['y'.repeat(1000)]: '1' }, details: { option: `${'y'.repeat(40)}…`, reason: 'unknown' } },
  ])('names the refused option in details: $fields', ({ fields, details }) => {
    expect(() => optionsFromFields(fields)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', details }),
    );
  });

  it('refuses task on the image routes (each names its own) and takes it for jobs', () => {
    expect(() => optionsFromFields({ task: 'detect' })).toThrow(
      /^Expected a known option \(preset, .*\) for task but received "detect" of type string$/,
    );
    expect(optionsFromFields({ task: 'detect' }, JOB_OPTION_NAMES)).toEqual({ task: 'detect' });
  });

  it('quotes at most 40 characters of what was sent', () => {
    const long = 'x'.repeat(100_000);
    for (const fields of [
      { addRegions: `[${long}` },
      { method: long },
      { targets: `face,${long}` },
      { addRegions: JSON.stringify([{ x: 0, y: 0, width: 1, height: 1, label: long }]) },
      { [long]: long },
    ]) {
      let message = '';
      try {
        optionsFromFields(fields);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^Expected .*x…"/);
      expect(message).not.toContain('x'.repeat(41));
    }
  });
});
