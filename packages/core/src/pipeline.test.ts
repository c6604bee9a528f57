import { describe, expect, it } from 'vitest';
import { NestorError } from './errors.ts';
import { outputFormat } from './pipeline.ts';

describe('outputFormat', () => {
  it.each([
    { requested: 'same', input: 'jpeg', animated: false, want: 'jpeg' },
    { requested: 'same', input: 'gif', animated: false, want: 'png' },
    { requested: 'same', input: 'gif', animated: true, want: 'gif' },
    { requested: 'same', input: 'webp', animated: true, want: 'webp' },
    { requested: 'same', input: 'heic', animated: false, want: 'jpeg' },
    { requested: 'png', input: 'heic', animated: false, want: 'png' },
    { requested: 'avif', input: 'jpeg', animated: false, want: 'avif' },
  ] as const)(
    '$requested for $input (animated $animated) → $want',
    ({ requested, input, animated, want }) => {
      expect(outputFormat(requested, input, animated)).toBe(want);
    },
  );

  it('refuses a format that cannot hold an animation', () => {
    expect(() => outputFormat('jpeg', 'gif', true)).toThrow(NestorError);
  });
});
