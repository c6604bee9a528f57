import { sniffImageFormat } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { ftypBrands, sniffVideo } from './sniff.ts';
import { ftyp } from './test-support.ts';

describe('sniffVideo', () => {
  it.each([
    ['MP4 (isom)', ftyp('isom', 'isom', 'iso2', 'avc1', 'mp41'), true],
    ['MP4 (mp42)', ftyp('mp42', 'mp42', 'isom'), true],
    ['QuickTime', ftyp('qt  ', 'qt  '), true],
    ['iTunes M4V', ftyp('M4V ', 'M4V ', 'M4A ', 'mp42', 'isom'), true],
    ['unknown brands (left to ffmpeg)', ftyp('xxxx', 'yyyy'), true],
    ['HEIC', ftyp('heic', 'mif1', 'heic'), false],
    ['HEIF (mif1 first)', ftyp('mif1', 'heic', 'miaf'), false],
    ['HEIF sequence', ftyp('msf1', 'msf1', 'hevc', 'iso8'), false],
    ['AVIF', ftyp('avif', 'avif', 'mif1', 'miaf'), false],
    ['AVIF (mif1 first)', ftyp('mif1', 'avif', 'miaf'), false],
    ['AVIF sequence', ftyp('avis', 'avis', 'msf1', 'iso8'), false],
    ['Matroska/WebM', Uint8Array.of(0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0), true],
    ['bare moov', Uint8Array.from(Buffer.from('\0\0\0\x08moov')), true],
    ['a PNG', Uint8Array.from(Buffer.from('\x89PNG\r\n\x1a\n')), false],
    ['too short', Uint8Array.of(0, 0, 0), false],
  ])('%s → %s', (_name, head, video) => {
    expect(sniffVideo(head)).toBe(video);
  });

  it('reads brands only within the box, and stops at the bytes it has', () => {
    const box = ftyp('heic', 'mif1', 'heic');
    expect(ftypBrands(box)).toEqual(['heic', 'mif1', 'heic']);
    expect(ftypBrands(box.subarray(0, 20))).toEqual(['heic', 'mif1']);
    const followed = Buffer.concat([ftyp('isom'), Buffer.from('\0\0\0\x08avif')]);
    expect(ftypBrands(followed)).toEqual(['isom']);
  });

  it('an AVIF image is an image before anything else (core sniffs it)', () => {
    expect(sniffImageFormat(ftyp('avif', 'mif1', 'miaf'))).toBe('avif');
  });
});
