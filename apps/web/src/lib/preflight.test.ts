import { NestorError } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { isHeic, preflight } from './preflight.ts';

/** An ISO BMFF file start: a `ftyp` box with the major brand, version 0 and the compatible brands. */
function ftyp(major: string, compatible: readonly string[]): Uint8Array<ArrayBuffer> {
  const text = `${major}\0\0\0\0${compatible.join('')}`;
  const bytes = new Uint8Array(8 + text.length + 16);
  new DataView(bytes.buffer).setUint32(0, 8 + text.length);
  bytes.set(
    [...'ftyp'].map((c) => c.charCodeAt(0)),
    4,
  );
  bytes.set(
    [...text].map((c) => c.charCodeAt(0)),
    8,
  );
  return bytes;
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: unknown) =>
      error instanceof NestorError ? `${error.code} ${JSON.stringify(error.details)}` : 'other',
  );

describe('isHeic', () => {
  it.each([
    ['an iPhone photo (heic, mif1 heic)', ftyp('heic', ['mif1', 'heic']), true],
    ['a burst (mif1, heic compatible)', ftyp('mif1', ['mif1', 'heic']), true],
    ['an HEVC sequence', ftyp('hevc', ['msf1', 'hevc']), true],
    ['an AVIF (avif)', ftyp('avif', ['mif1', 'avif', 'miaf']), false],
    ['an AVIF with major mif1', ftyp('mif1', ['mif1', 'avif']), false],
    ['an MP4 video', ftyp('isom', ['isom', 'mp41']), false],
    ['a JPEG', new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...new Array<number>(28).fill(0)]), false],
    ['a few bytes', new Uint8Array([0, 0, 0]), false],
  ])('%s → %s', (_name, head, expected) => {
    expect(isHeic(head)).toBe(expected);
  });
});

describe('preflight', () => {
  const limits = { maxBytes: 1000 };

  it('refuses a file over the byte limit before reading it, as the server’s 413 would', async () => {
    expect(await codeOf(preflight(new Blob([new Uint8Array(1001)]), limits))).toBe(
      'E_INPUT_TOO_LARGE undefined',
    );
  });

  it('refuses an HEIC photo with details.heic, and lets a JPEG and an AVIF through', async () => {
    const heic = new Blob([ftyp('heic', ['mif1', 'heic']), new Uint8Array(200)]);
    expect(await codeOf(preflight(heic, limits))).toBe('E_UNSUPPORTED_MEDIA {"heic":true}');
    const avif = new Blob([ftyp('avif', ['mif1', 'avif'])]);
    expect(await codeOf(preflight(avif, limits))).toBe('resolved');
    expect(await codeOf(preflight(new Blob([new Uint8Array([0xff, 0xd8, 0xff])]), limits))).toBe('resolved');
  });
});
