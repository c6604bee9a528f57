import { describe, expect, it } from 'vitest';
import { sniffImageFormat } from './image.ts';

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));

describe('sniffImageFormat', () => {
  it.each([
    { name: 'jpeg', input: bytes([0xff, 0xd8, 0xff, 0xe0]), want: 'jpeg' },
    { name: 'png', input: bytes([0x89], 'PNG\r\n\x1a\n'), want: 'png' },
    { name: 'webp', input: bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 '), want: 'webp' },
    { name: 'gif89a', input: bytes('GIF89a'), want: 'gif' },
    { name: 'gif87a', input: bytes('GIF87a'), want: 'gif' },
    { name: 'tiff little-endian', input: bytes('II*\0'), want: 'tiff' },
    { name: 'tiff big-endian', input: bytes('MM\0*'), want: 'tiff' },
    { name: 'avif', input: bytes([0, 0, 0, 0x1c], 'ftypavif'), want: 'avif' },
    { name: 'heic is not supported', input: bytes([0, 0, 0, 0x1c], 'ftypheic'), want: undefined },
    { name: 'riff but not webp', input: bytes('RIFF', [0, 0, 0, 0], 'WAVE'), want: undefined },
    { name: 'text', input: bytes('hello world'), want: undefined },
    { name: 'empty', input: new Uint8Array(0), want: undefined },
    { name: 'truncated jpeg marker', input: bytes([0xff, 0xd8]), want: undefined },
  ])('$name', ({ input, want }) => {
    expect(sniffImageFormat(input)).toBe(want);
  });
});
