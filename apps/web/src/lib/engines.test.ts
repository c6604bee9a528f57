import { describe, expect, it } from 'vitest';
import { DEVICE_FORMATS, deviceOutputFormat } from './engines.ts';

describe('on-device output format', () => {
  it('offers only what the browser writes', () => {
    expect(DEVICE_FORMATS).toEqual(['same', 'jpeg', 'png', 'webp']);
  });

  it.each([
    ['same', 'jpeg', 'same'],
    ['same', 'webp', 'same'],
    ['same', 'avif', 'webp'],
    ['same', 'gif', 'png'],
    ['same', 'tiff', 'png'],
    ['same', undefined, 'same'],
    ['jpeg', 'avif', 'jpeg'],
  ] as const)('chosen %s, input %s → %s', (chosen, input, expected) => {
    expect(deviceOutputFormat(chosen, input)).toBe(expected);
  });
});
