import { defaultConfig, NestorError } from '@nestor/core';
import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { createSharpCodec } from './sharp-codec.ts';

const codec = createSharpCodec();
const limits = defaultConfig().limits;

/** A 64x32 image: left half red, right half blue. */
async function sample(
  format: 'jpeg' | 'png' | 'webp' | 'avif' | 'tiff' | 'gif',
  extra: (s: Sharp) => Sharp = (s) => s,
) {
  const raw = Buffer.alloc(64 * 32 * 3);
  for (let y = 0; y < 32; y++)
    for (let x = 0; x < 64; x++) raw.set(x < 32 ? [220, 20, 20] : [20, 20, 220], (y * 64 + x) * 3);
  return new Uint8Array(
    await extra(sharp(raw, { raw: { width: 64, height: 32, channels: 3 } }))
      .toFormat(format)
      .toBuffer(),
  );
}

/** Noise compresses badly, so truncating the file really cuts into the pixel data. */
async function noisy(format: 'jpeg' | 'png'): Promise<Uint8Array> {
  const raw = Buffer.alloc(64 * 32 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919) % 251;
  return new Uint8Array(
    await sharp(raw, { raw: { width: 64, height: 32, channels: 3 } })
      .toFormat(format)
      .toBuffer(),
  );
}

/** A JPEG whose frame header claims 20000x20000: tests the pixel limit without allocating 1.2 GB. */
async function hugeJpegHeader(): Promise<Uint8Array> {
  const jpeg = Buffer.from(await noisy('jpeg'));
  for (let i = 0; i < jpeg.length - 8; i++) {
    if (jpeg[i] === 0xff && jpeg[i + 1] === 0xc0) {
      jpeg.writeUInt16BE(20000, i + 5);
      jpeg.writeUInt16BE(20000, i + 7);
      break;
    }
  }
  return new Uint8Array(jpeg);
}

describe('decode', () => {
  it.each(['jpeg', 'png', 'webp', 'avif', 'tiff', 'gif'] as const)('reads %s', async (format) => {
    const d = await codec.decode(await sample(format), limits);
    expect(d.format).toBe(format);
    expect([d.image.width, d.image.height]).toEqual([64, 32]);
    // GIF palettes may carry transparency, so sharp reports an alpha channel
    expect(d.image.channels).toBe(format === 'gif' ? 4 : 3);
    const c = d.image.channels;
    const px = (x: number, y: number) => [...d.image.data.slice((y * 64 + x) * c, (y * 64 + x) * c + 3)];
    expect(px(5, 5)[0]).toBeGreaterThan(150);
    expect(px(60, 5)[2]).toBeGreaterThan(150);
  });

  it('reads the first frame of an animated GIF', async () => {
    const frame = (r: number) =>
      sharp({ create: { width: 16, height: 16, channels: 3, background: { r, g: 0, b: 0 } } })
        .png()
        .toBuffer();
    const gif = await sharp([await frame(250), await frame(0)], { join: { animated: true } })
      .gif()
      .toBuffer();
    const d = await codec.decode(new Uint8Array(gif), limits);
    expect([d.image.width, d.image.height]).toEqual([16, 16]);
    expect(d.image.data[0]).toBeGreaterThan(200);
  });

  it('applies EXIF orientation before anything else', async () => {
    // orientation 6 = rotate 90° clockwise to display: 64x32 stored becomes 32x64, red on top
    const rotated = await sample('jpeg', (s) => s.withMetadata({ orientation: 6 }));
    const d = await codec.decode(rotated, limits);
    expect([d.image.width, d.image.height]).toEqual([32, 64]);
    expect(d.image.data[(5 * 32 + 16) * 3]).toBeGreaterThan(150);
    expect(d.image.data[(60 * 32 + 16) * 3 + 2]).toBeGreaterThan(150);
  });

  it('keeps alpha', async () => {
    const png = await sharp({
      create: { width: 20, height: 20, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0.5 } },
    })
      .png()
      .toBuffer();
    const d = await codec.decode(new Uint8Array(png), limits);
    expect(d.image.channels).toBe(4);
    expect(d.image.data[3]).toBe(128);
  });

  const bad: { name: string; bytes: () => Promise<Uint8Array> | Uint8Array; code: string }[] = [
    { name: 'zero bytes', bytes: () => new Uint8Array(0), code: 'E_EMPTY_INPUT' },
    {
      name: 'not an image',
      bytes: () => new TextEncoder().encode('just some text, not an image'),
      code: 'E_UNSUPPORTED_MEDIA',
    },
    { name: 'truncated JPEG', bytes: async () => (await noisy('jpeg')).slice(0, 800), code: 'E_DECODE' },
    { name: 'truncated PNG', bytes: async () => (await noisy('png')).slice(0, 350), code: 'E_DECODE' },
    {
      name: '1x1 image',
      bytes: async () =>
        new Uint8Array(
          await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } })
            .png()
            .toBuffer(),
        ),
      code: 'E_IMAGE_TOO_SMALL',
    },
    { name: '20000x20000 (pixel limit)', bytes: hugeJpegHeader, code: 'E_TOO_MANY_PIXELS' },
  ];
  it.each(bad)('rejects $name with $code', async ({ bytes, code }) => {
    const error = await codec.decode(await bytes(), limits).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NestorError);
    expect((error as NestorError).code).toBe(code);
  });
});

describe('encode', () => {
  it('strips all metadata by default and keeps it on request', async () => {
    const withExif = await sample('jpeg', (s) =>
      s
        .withExif({ IFD0: { Copyright: 'someone', ImageDescription: 'GPS here' } })
        .withMetadata({ orientation: 6 }),
    );
    const decoded = await codec.decode(withExif, limits);
    const stripped = await codec.encode(
      decoded.image,
      { format: 'jpeg', quality: 90, keepMetadata: false },
      decoded,
    );
    const strippedMeta = await sharp(stripped).metadata();
    expect(strippedMeta.exif).toBeUndefined();
    expect(strippedMeta.icc).toBeUndefined();
    expect(strippedMeta.orientation).toBeUndefined();
    const kept = await codec.encode(
      decoded.image,
      { format: 'jpeg', quality: 90, keepMetadata: true },
      decoded,
    );
    const keptMeta = await sharp(kept).metadata();
    expect(keptMeta.exif?.toString('latin1')).toContain('someone');
    // pixels are already upright: the orientation tag must not rotate them again
    expect([keptMeta.width, keptMeta.height]).toEqual([32, 64]);
    expect(keptMeta.orientation ?? 1).toBe(1);
  });

  it.each(['jpeg', 'png', 'webp', 'avif', 'tiff', 'gif'] as const)('writes %s', async (format) => {
    const decoded = await codec.decode(await sample('png'), limits);
    const out = await codec.encode(decoded.image, { format, quality: 80, keepMetadata: false }, decoded);
    const meta = await sharp(out).metadata();
    expect(meta.format === 'heif' ? 'avif' : meta.format).toBe(format);
    expect([meta.width, meta.height]).toEqual([64, 32]);
  });
});
