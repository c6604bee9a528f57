import { describe, expect, it } from 'vitest';
import { countFrames, frameStarts, isImageSequence, sniffImageFormat } from './image.ts';

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
    {
      name: 'avif named only among the compatible brands',
      input: bytes([0, 0, 0, 0x18], 'ftypmif1', [0, 0, 0, 0], 'miafavif'),
      want: 'avif',
    },
    { name: 'heic', input: bytes([0, 0, 0, 0x1c], 'ftypheic'), want: 'heic' },
    {
      name: 'heic named only among the compatible brands (mif1 major) is not avif',
      input: bytes([0, 0, 0, 0x18], 'ftypmif1', [0, 0, 0, 0], 'heicmiaf'),
      want: 'heic',
    },
    { name: 'heix (10-bit HEVC)', input: bytes([0, 0, 0, 0x14], 'ftypheix', [0, 0, 0, 0]), want: 'heic' },
    {
      name: 'mif1 without a codec brand',
      input: bytes([0, 0, 0, 0x14], 'ftypmif1', [0, 0, 0, 0], 'miaf'),
      want: undefined,
    },
    { name: 'mp4 video', input: bytes([0, 0, 0, 0x18], 'ftypisom', [0, 0, 0, 0], 'mp41'), want: undefined },
    { name: 'riff but not webp', input: bytes('RIFF', [0, 0, 0, 0], 'WAVE'), want: undefined },
    { name: 'text', input: bytes('hello world'), want: undefined },
    { name: 'empty', input: new Uint8Array(0), want: undefined },
    { name: 'truncated jpeg marker', input: bytes([0xff, 0xd8]), want: undefined },
  ])('$name', ({ input, want }) => {
    expect(sniffImageFormat(input)).toBe(want);
  });
});

const u16 = (n: number) => [n & 0xff, n >> 8];
const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
/** GIF89a: 2x2 screen, a 2-colour global table, the given blocks, the trailer. */
const gif = (...blocks: number[][]) =>
  bytes('GIF89a', u16(2), u16(2), [0x80, 0, 0], [0, 0, 0, 255, 255, 255], ...blocks, [0x3b]);
const netscape = bytes([0x21, 0xff, 11], 'NETSCAPE2.0', [3, 1, 0, 0, 0]);
const control = [0x21, 0xf9, 4, 0, 10, 0, 0, 0];
/** One 2x2 image; `local` adds a 4-colour local table. */
const frame = (local = false) => [
  0x2c,
  ...u16(0),
  ...u16(0),
  ...u16(2),
  ...u16(2),
  local ? 0x81 : 0,
  ...(local ? new Array<number>(12).fill(7) : []),
  2,
  2,
  0x4c,
  0x01,
  0,
];
const chunk = (fourcc: string, size: number) => [
  ...bytes(fourcc),
  ...u32(size),
  ...new Array<number>(size + (size & 1)).fill(0),
];
/** RIFF WEBP with a VP8X header (flags) and the given chunks. */
const webp = (flags: number, ...chunks: number[][]) => {
  const vp8x = [...bytes('VP8X'), ...u32(10), flags, 0, 0, 0, 1, 0, 0, 1, 0, 0];
  const body = [...bytes('WEBP'), ...vp8x, ...chunks.flat()];
  return new Uint8Array([...bytes('RIFF'), ...u32(body.length), ...body]);
};

describe('countFrames', () => {
  it.each([
    { name: 'still GIF', input: gif(frame()), want: 1 },
    { name: 'still GIF with a loop extension', input: gif([...netscape], control, frame()), want: 1 },
    {
      name: 'animated GIF',
      input: gif([...netscape], control, frame(), control, frame(), control, frame()),
      want: 3,
    },
    { name: 'animated GIF without a loop extension', input: gif(frame(), frame()), want: 2 },
    { name: 'frames with local colour tables', input: gif(frame(true), frame(true)), want: 2 },
    { name: 'GIF cut inside its second frame', input: gif(frame(), frame()).subarray(0, 47), want: 2 },
    { name: 'GIF cut after its header', input: gif(frame()).subarray(0, 19), want: 1 },
    { name: 'GIF with an unknown block', input: gif(frame(), [0x99], frame()), want: 1 },
    {
      name: 'animated WebP',
      input: webp(0x02, chunk('ANIM', 6), chunk('ANMF', 31), chunk('ANMF', 40)),
      want: 2,
    },
    {
      name: 'WebP with odd chunk sizes',
      input: webp(0x02, chunk('ANIM', 6), chunk('ANMF', 3), chunk('ANMF', 5), chunk('ANMF', 1)),
      want: 3,
    },
    {
      name: 'WebP frames without the animation flag',
      input: webp(0x10, chunk('ANMF', 4), chunk('ANMF', 4)),
      want: 1,
    },
    { name: 'still extended WebP', input: webp(0x10, chunk('ALPH', 9), chunk('VP8L', 20)), want: 1 },
    { name: 'simple WebP', input: bytes('RIFF', u32(12), 'WEBPVP8 ', u32(0)), want: 1 },
    { name: 'JPEG', input: bytes([0xff, 0xd8, 0xff, 0xe0]), want: 1 },
    { name: 'not an image', input: bytes('hello'), want: 1 },
  ])('$name: $want', ({ input, want }) => {
    expect(countFrames(input)).toBe(want);
  });
});

describe('isImageSequence', () => {
  const u32be = (n: number) => [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  /** An ftyp box: major brand, minor version 0, compatible brands; then `after`. */
  const ftyp = (major: string, compatible: string[], after = '') =>
    bytes(u32be(16 + 4 * compatible.length), `ftyp${major}`, u32be(0), compatible.join(''), after);
  it.each([
    { name: 'avis major brand', input: ftyp('avis', ['avif', 'mif1']), want: true },
    { name: 'avis compatible brand', input: ftyp('avif', ['mif1', 'avis']), want: true },
    { name: 'still AVIF', input: ftyp('avif', ['mif1', 'miaf']), want: false },
    { name: 'avis after the ftyp box', input: ftyp('avif', ['mif1'], 'avis'), want: false },
    { name: 'truncated ftyp', input: bytes(u32be(40), 'ftypavif'), want: false },
    { name: 'not an AVIF', input: bytes('GIF89a', 'avis'), want: false },
    {
      name: 'still HEIC (an iPhone photo)',
      input: ftyp('heic', ['mif1', 'MiHE', 'miaf', 'heic']),
      want: false,
    },
    { name: 'HEVC sequence major brand', input: ftyp('hevc', ['msf1', 'iso8']), want: true },
    { name: 'HEIC with a sequence among its brands', input: ftyp('heic', ['mif1', 'msf1']), want: true },
    { name: 'mp4 video naming hevc is no image', input: ftyp('isom', ['iso2', 'mp41']), want: false },
  ])('$name: $want', ({ input, want }) => {
    expect(isImageSequence(input)).toBe(want);
  });
});

describe('frameStarts', () => {
  it.each([
    { delays: [80, 80, 400], frames: undefined, starts: [0, 80, 160] },
    { delays: [], frames: undefined, starts: [] },
    // A frame past the delays given starts where the last one did.
    { delays: [100], frames: 3, starts: [0, 100, 100] },
    { delays: [], frames: 2, starts: [0, 0] },
  ])('$delays over $frames frames: $starts', ({ delays, frames, starts }) => {
    expect(frameStarts(delays, frames)).toEqual(starts);
  });
});
