import { NestorError } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { preflight } from './preflight.ts';

const codeOf = (run: () => void) => {
  try {
    run();
    return 'passed';
  } catch (error) {
    return error instanceof NestorError ? error.code : 'other';
  }
};

describe('preflight', () => {
  const limits = { maxBytes: 1000 };

  it('refuses a file over the byte limit before reading it, as the server’s 413 would', () => {
    expect(codeOf(() => preflight(new Blob([new Uint8Array(1001)]), limits))).toBe('E_INPUT_TOO_LARGE');
  });

  it('lets through a file at the limit, whatever its format (the server reads HEIC)', () => {
    const heic = new Uint8Array(1000);
    heic.set([0, 0, 0, 0x18, ...[...'ftypheic'].map((c) => c.charCodeAt(0))]);
    expect(codeOf(() => preflight(new Blob([heic]), limits))).toBe('passed');
  });
});
