import { describe, expect, it } from 'vitest';
import { optionsFromFields } from './options.ts';

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
    expect(() => optionsFromFields({ ['__proto__']: 'x' })).toThrow(/no unknown option \(__proto__\)/);
  });
});
