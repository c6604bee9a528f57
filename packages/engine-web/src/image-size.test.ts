import { sniffImageFormat } from '@nestor/core';
import sharp, { type FormatEnum } from 'sharp';
import { describe, expect, it } from 'vitest';
import { readImageSize } from './image-size.ts';

const WIDTH = 37;
const HEIGHT = 23;

async function encoded(
  format: string,
  options: Record<string, unknown> = {},
  alpha = false,
): Promise<Uint8Array> {
  const image = sharp({
    create: {
      width: WIDTH,
      height: HEIGHT,
      channels: alpha ? 4 : 3,
      background: { r: 200, g: 40, b: 90, alpha: 0.5 },
    },
  });
  const buffer = await image.toFormat(format as keyof FormatEnum, options).toBuffer();
  return new Uint8Array(buffer);
}

describe('readImageSize', () => {
  it.each([
    { name: 'jpeg baseline', format: 'jpeg', options: {} },
    { name: 'jpeg progressive', format: 'jpeg', options: { progressive: true } },
    { name: 'png', format: 'png', options: {} },
    { name: 'png with alpha', format: 'png', options: {}, alpha: true },
    { name: 'webp lossy (VP8)', format: 'webp', options: {} },
    { name: 'webp lossless (VP8L)', format: 'webp', options: { lossless: true } },
    { name: 'webp with alpha (VP8X)', format: 'webp', options: {}, alpha: true },
    { name: 'gif', format: 'gif', options: {} },
    { name: 'tiff', format: 'tiff', options: {} },
    { name: 'tiff big-endian-free lzw', format: 'tiff', options: { compression: 'lzw' } },
    { name: 'avif', format: 'avif', options: {} },
  ])('$name', async ({ format, options, alpha }) => {
    const bytes = await encoded(format, options, alpha);
    const sniffed = sniffImageFormat(bytes);
    expect(sniffed).toBeDefined();
    expect(readImageSize(bytes, sniffed!)).toEqual({ width: WIDTH, height: HEIGHT });
  });

  it('reads a JPEG whose size comes after large EXIF and ICC segments', async () => {
    const buffer = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#888' } })
      .withMetadata({ orientation: 6 })
      .withIccProfile('p3')
      .jpeg()
      .toBuffer();
    expect(readImageSize(new Uint8Array(buffer), 'jpeg')).toEqual({ width: 640, height: 480 });
  });

  it.each(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const)(
    '%s: a truncated header gives undefined',
    async (format) => {
      const bytes = await encoded(format);
      expect(readImageSize(bytes.subarray(0, 8), format)).toBeUndefined();
    },
  );
});
