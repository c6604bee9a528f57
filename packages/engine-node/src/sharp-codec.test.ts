import { readFileSync } from 'node:fs';
import { countFrames, type DecodedImage, defaultConfig, type ImageFormat, NestorError } from '@nestor/core';
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

/** A JPEG whose frame header claims side x side: tests the pixel limit without allocating the pixels. */
async function hugeJpegHeader(side = 20000): Promise<Uint8Array> {
  const jpeg = Buffer.from(await noisy('jpeg'));
  for (let i = 0; i < jpeg.length - 8; i++) {
    if (jpeg[i] === 0xff && jpeg[i + 1] === 0xc0) {
      jpeg.writeUInt16BE(side, i + 5);
      jpeg.writeUInt16BE(side, i + 7);
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
    { name: '20000x20000 (pixel limit)', bytes: () => hugeJpegHeader(), code: 'E_TOO_MANY_PIXELS' },
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

/** A 48x32 gradient; with alpha, alpha runs from 10 to 245 across it so any blending shows. */
function gradient(channels: 3 | 4): Sharp {
  const raw = Buffer.alloc(48 * 32 * channels);
  for (let y = 0; y < 32; y++)
    for (let x = 0; x < 48; x++)
      raw.set([x * 5, y * 7, (x + y) * 3, 10 + x * 5].slice(0, channels), (y * 48 + x) * channels);
  return sharp(raw, { raw: { width: 48, height: 32, channels } });
}

/** Grey and alpha; b-w because sharp would otherwise write two raw channels out as RGBA. */
function greyAlpha(): Sharp {
  const raw = Buffer.alloc(48 * 32 * 2);
  for (let i = 0; i < 48 * 32; i++) raw.set([(i * 5) % 256, 10 + (i % 48) * 5], i * 2);
  return sharp(raw, { raw: { width: 48, height: 32, channels: 2 } }).toColourspace('b-w');
}

/** Stands in for a redaction: a flat block over the middle, alpha left as it was. */
function redact(d: DecodedImage): void {
  const { width, channels, data } = d.image;
  for (let y = 8; y < 24; y++)
    for (let x = 12; x < 36; x++) data.set([40, 180, 90], (y * width + x) * channels);
}

const EXIF = { IFD0: { Copyright: 'Nestor test' } };
const XMP =
  '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
  '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Nestor test</dc:creator>' +
  '</rdf:Description></rdf:RDF></x:xmpmeta>';

type Kept = 'exif' | 'icc' | 'xmp';

/** libvips's built-in sRGB profile, as sharp attaches it. */
async function srgbProfile(): Promise<Buffer | undefined> {
  return (await sharp(await gradient(3).withIccProfile('srgb').png().toBuffer()).metadata()).icc;
}

const keepCases: { name: string; input: () => Sharp; format: ImageFormat; kept: readonly Kept[] }[] = [
  {
    name: 'RGBA PNG',
    input: () => gradient(4).withExif(EXIF).withXmp(XMP).png(),
    format: 'png',
    kept: ['exif', 'xmp'],
  },
  {
    name: 'RGBA PNG with an ICC profile',
    input: () => gradient(4).withIccProfile('p3').png(),
    format: 'png',
    kept: ['icc'],
  },
  { name: 'grey+alpha PNG', input: () => greyAlpha().withExif(EXIF).png(), format: 'png', kept: ['exif'] },
  {
    name: 'palette PNG with transparency',
    input: () => gradient(4).png({ palette: true }),
    format: 'png',
    kept: [],
  },
  { name: '16-bit RGBA PNG', input: () => gradient(4).toColourspace('rgb16').png(), format: 'png', kept: [] },
  {
    name: 'RGBA WebP (lossless)',
    input: () => gradient(4).withExif(EXIF).webp({ lossless: true }),
    format: 'webp',
    kept: ['exif'],
  },
  { name: 'opaque PNG', input: () => gradient(3).withExif(EXIF).png(), format: 'png', kept: ['exif'] },
  { name: '16-bit RGB PNG', input: () => gradient(3).toColourspace('rgb16').png(), format: 'png', kept: [] },
  {
    name: 'JPEG with EXIF, ICC and XMP',
    input: () => gradient(3).withExif(EXIF).withIccProfile('p3').withXmp(XMP).jpeg({ quality: 95 }),
    format: 'jpeg',
    kept: ['exif', 'icc', 'xmp'],
  },
];

/** A JPEG whose EXIF holds Make and Orientation 6 in IFD0 and, in IFD1, a thumbnail as cameras write it. */
async function jpegWithExifThumbnail(order: 'II' | 'MM', thumbnail: Buffer): Promise<Buffer> {
  const ifd0 = 8;
  const ifd1 = ifd0 + 2 + 2 * 12 + 4;
  const data = ifd1 + 2 + 2 * 12 + 4;
  const tiff = Buffer.alloc(data + thumbnail.length);
  const u16 = (v: number, at: number) =>
    order === 'II' ? tiff.writeUInt16LE(v, at) : tiff.writeUInt16BE(v, at);
  const u32 = (v: number, at: number) =>
    order === 'II' ? tiff.writeUInt32LE(v, at) : tiff.writeUInt32BE(v, at);
  const entry = (at: number, tag: number, type: number, count: number, value: (at: number) => void) => {
    u16(tag, at);
    u16(type, at + 2);
    u32(count, at + 4);
    value(at + 8);
  };
  tiff.write(order, 0, 'latin1');
  u16(42, 2);
  u32(ifd0, 4);
  u16(2, ifd0);
  entry(ifd0 + 2, 0x010f, 2, 4, (at) => tiff.write('Cam\0', at, 'latin1'));
  entry(ifd0 + 14, 0x0112, 3, 1, (at) => u16(6, at));
  u32(ifd1, ifd0 + 26);
  u16(2, ifd1);
  entry(ifd1 + 2, 0x0201, 4, 1, (at) => u32(data, at));
  entry(ifd1 + 14, 0x0202, 4, 1, (at) => u32(thumbnail.length, at));
  u32(0, ifd1 + 26);
  thumbnail.copy(tiff, data);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0, 0]), Buffer.from('Exif\0\0', 'latin1'), tiff]);
  app1.writeUInt16BE(app1.length - 2, 2);
  const jpeg = await gradient(3).jpeg().toBuffer();
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

describe('encode with keepMetadata', () => {
  it.each(keepCases)('changes only the metadata of a $name', async ({ input, format, kept }) => {
    const decoded = await codec.decode(new Uint8Array(await input().toBuffer()), limits);
    redact(decoded);
    const encode = (keepMetadata: boolean) =>
      codec.encode(decoded.image, { format, quality: 90, keepMetadata }, decoded);
    const plain = await encode(false);
    const keep = await encode(true);
    // ignoreIcc: the values as stored, not as a colour-managed reader would show them
    const pixels = (bytes: Uint8Array) =>
      sharp(bytes, { ignoreIcc: true }).raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
    const [p, k] = [await pixels(plain), await pixels(keep)];
    expect(k.info).toEqual(p.info);
    expect(k.data.equals(p.data)).toBe(true);
    const [plainMeta, keepMeta] = [await sharp(plain).metadata(), await sharp(keep).metadata()];
    expect([keepMeta.channels, keepMeta.depth, keepMeta.hasAlpha]).toEqual([
      plainMeta.channels,
      plainMeta.depth,
      plainMeta.hasAlpha,
    ]);
    for (const key of ['exif', 'icc', 'xmp'] as const) {
      expect(plainMeta[key], `${key} without keepMetadata`).toBeUndefined();
      expect(keepMeta[key] !== undefined, `${key} with keepMetadata`).toBe(kept.includes(key));
    }
    if (kept.includes('exif')) expect(keepMeta.exif?.toString('latin1')).toContain('Nestor test');
    if (kept.includes('xmp')) expect(keepMeta.xmpAsString).toContain('Nestor test');
    // the decode turned the pixels into sRGB, so sRGB is the profile that describes them
    if (kept.includes('icc')) expect(keepMeta.icc).toEqual(await srgbProfile());
  });

  it.each(['II', 'MM'] as const)(
    'keeps the EXIF tags (%s) but not the thumbnail, which shows the unredacted photo',
    async (order) => {
      const thumbnail = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#0f0' } })
        .jpeg()
        .toBuffer();
      const decoded = await codec.decode(
        new Uint8Array(await jpegWithExifThumbnail(order, thumbnail)),
        limits,
      );
      expect([decoded.image.width, decoded.image.height]).toEqual([32, 48]);
      const kept = Buffer.from(
        await codec.encode(decoded.image, { format: 'jpeg', quality: 90, keepMetadata: true }, decoded),
      );
      const meta = await sharp(kept).metadata();
      expect(meta.exif?.toString('latin1')).toContain('Cam');
      expect(meta.orientation ?? 1).toBe(1);
      expect([meta.width, meta.height]).toEqual([32, 48]);
      expect(kept.includes(thumbnail.subarray(2, 64))).toBe(false);
    },
  );

  it('reopens the original under the pixel limit that its decode enforced', async () => {
    const decoded = await codec.decode(await sample('jpeg'), limits);
    // 15000x15000 is under sharp's own default limit, so only an explicit limit refuses it
    const swapped = { ...decoded, source: await hugeJpegHeader(15000) };
    const error = await codec
      .encode(decoded.image, { format: 'jpeg', quality: 90, keepMetadata: true }, swapped)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(NestorError);
    expect((error as NestorError).code).toBe('E_ENCODE');
    expect(String((error as NestorError).cause)).toMatch(/pixel limit/);
  });
});

/** Frames of 24x16: a red bar at a different column on each, on grey. */
async function animation(format: 'gif' | 'webp', frames = 4): Promise<Uint8Array> {
  const pngs = await Promise.all(
    Array.from({ length: frames }, (_, i) =>
      sharp({ create: { width: 24, height: 16, channels: 3, background: '#808080' } })
        .composite([{ input: BAR, left: 2 + i * 4, top: 0 }])
        .png()
        .toBuffer(),
    ),
  );
  const timing = { delay: pngs.map((_, i) => 50 * (i + 1)), loop: 3 };
  const joined = pngs.length > 1 ? sharp(pngs, { join: { animated: true } }) : sharp(pngs[0]);
  return new Uint8Array(
    await (format === 'gif' ? joined.gif(timing) : joined.webp({ ...timing, lossless: true })).toBuffer(),
  );
}

const BAR = { create: { width: 4, height: 16, channels: 3 as const, background: '#ff0000' } };

describe('animated GIF and WebP', () => {
  it.each(['gif', 'webp'] as const)(
    'reads every frame of an animated %s, with delays and loop',
    async (format) => {
      const bytes = await animation(format);
      expect(countFrames(bytes)).toBe(4);
      const d = await codec.decode(bytes, limits);
      const frames = d.animation?.frames ?? [];
      expect(frames).toHaveLength(4);
      expect(d.image).toBe(frames[0]);
      expect(d.animation?.delays).toEqual([50, 100, 150, 200]);
      expect(d.animation?.loop).toBe(3);
      for (const [i, f] of frames.entries()) {
        expect([f.width, f.height]).toEqual([24, 16]);
        // the bar sits at column 2 + 4i of frame i, and only there
        const red = (x: number) =>
          f.data[(8 * 24 + x) * f.channels]! > 200 && f.data[(8 * 24 + x) * f.channels + 1]! < 60;
        expect(Array.from({ length: 24 }, (_, x) => x).filter(red)).toEqual(
          [0, 1, 2, 3].map((k) => 2 + i * 4 + k),
        );
      }
    },
  );

  it.each([
    { from: 'gif', to: 'gif' },
    { from: 'webp', to: 'webp' },
    { from: 'gif', to: 'webp' },
    { from: 'webp', to: 'gif' },
  ] as const)('writes an animated $from as $to with its frames, delays and loop', async ({ from, to }) => {
    const decoded = await codec.decode(await animation(from), limits);
    const out = await codec.encode(
      decoded.animation!,
      { format: to, quality: 90, keepMetadata: false },
      decoded,
    );
    const meta = await sharp(out, { pages: -1 }).metadata();
    expect(meta.format).toBe(to);
    expect([meta.width, meta.pageHeight, meta.pages]).toEqual([24, 16, 4]);
    expect(meta.delay).toEqual([50, 100, 150, 200]);
    expect(meta.loop).toBe(3);
    const again = await codec.decode(new Uint8Array(out), limits);
    for (const [i, f] of again.animation!.frames.entries()) {
      // lossy WebP moves the red a little
      expect(f.data[(8 * 24 + 2 + i * 4) * f.channels]).toBeGreaterThan(150);
    }
  });

  it.each([
    { name: 'more frames than limits.maxFrames', limits: { maxFrames: 3 }, code: 'E_INPUT_TOO_LARGE' },
    // 24x16 = 384 pixels a frame: one frame fits, the four together do not
    { name: 'all frames over limits.maxPixels', limits: { maxPixels: 1000 }, code: 'E_TOO_MANY_PIXELS' },
    { name: 'frames under limits.minSide', limits: { minSide: 20 }, code: 'E_IMAGE_TOO_SMALL' },
  ])('refuses $name with $code, before decoding', async ({ limits: over, code }) => {
    for (const format of ['gif', 'webp'] as const) {
      const error = await codec
        .decode(await animation(format), { ...limits, ...over })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NestorError);
      expect((error as NestorError).code).toBe(code);
    }
  });

  it('says how many frames and pixels went over the limit', async () => {
    await expect(codec.decode(await animation('gif'), { ...limits, maxPixels: 1000 })).rejects.toThrow(
      'The animation has 4 frames of 24x16 pixels, 1536 in all, more than the limit of 1000',
    );
    await expect(codec.decode(await animation('gif'), { ...limits, maxFrames: 3 })).rejects.toThrow(
      'The animation has 4 frames, more than the limit of 3',
    );
  });

  it.each(['gif', 'webp'] as const)('reads a one-frame %s as a still image', async (format) => {
    const d = await codec.decode(await animation(format, 1), limits);
    expect(d.animation).toBeUndefined();
    expect([d.image.width, d.image.height]).toEqual([24, 16]);
  });
});

/** Pages of 24x16 as the animation() frames, written as one multi-page TIFF. */
async function multiPageTiff(pages = 3, extra: (s: Sharp) => Sharp = (s) => s): Promise<Uint8Array> {
  const decoded = await codec.decode(await animation('gif', pages), limits);
  const frames = decoded.animation?.frames ?? [decoded.image];
  const { width, height, channels } = frames[0]!;
  const stacked = sharp(Buffer.concat(frames.map((f) => f.data)), {
    raw: { width, height: height * frames.length, channels, pageHeight: height },
  });
  return new Uint8Array(await extra(stacked.removeAlpha()).tiff().toBuffer());
}

/** An uncompressed greyscale TIFF with one page of each size, little-endian (TIFF 6.0 §2, §8). */
function greyTiff(sizes: readonly (readonly [number, number])[]): Uint8Array {
  const parts: Buffer[] = [Buffer.from('II*\0\x08\0\0\0', 'latin1')];
  let at = 8;
  for (const [i, [w, h]] of sizes.entries()) {
    const entries: [number, number, number][] = [
      [256, 3, w],
      [257, 3, h],
      [258, 3, 8],
      [259, 3, 1],
      [262, 3, 1],
      [273, 4, at + 2 + 9 * 12 + 4],
      [277, 3, 1],
      [278, 3, h],
      [279, 4, w * h],
    ];
    const ifd = Buffer.alloc(2 + entries.length * 12 + 4);
    ifd.writeUInt16LE(entries.length, 0);
    for (const [k, [tag, type, value]] of entries.entries()) {
      ifd.writeUInt16LE(tag, 2 + k * 12);
      ifd.writeUInt16LE(type, 4 + k * 12);
      ifd.writeUInt32LE(1, 6 + k * 12);
      if (type === 3) ifd.writeUInt16LE(value, 10 + k * 12);
      else ifd.writeUInt32LE(value, 10 + k * 12);
    }
    at += ifd.length + w * h;
    ifd.writeUInt32LE(i === sizes.length - 1 ? 0 : at, ifd.length - 4);
    parts.push(ifd, Buffer.alloc(w * h, 40 + 60 * i));
  }
  return new Uint8Array(Buffer.concat(parts));
}

describe('multi-page TIFF', () => {
  it('reads every page as its own image and writes them back as one multi-page TIFF', async () => {
    const d = await codec.decode(await multiPageTiff(), limits);
    const pages = d.paged?.pages ?? [];
    expect(d.animation).toBeUndefined();
    expect(pages).toHaveLength(3);
    expect(d.image).toBe(pages[0]);
    const barAt = (f: { data: Uint8Array; channels: number }) =>
      Array.from({ length: 24 }, (_, x) => x).find((x) => f.data[(8 * 24 + x) * f.channels]! > 200);
    expect(pages.map(barAt)).toEqual([2, 6, 10]);
    const out = await codec.encode(d.paged!, { format: 'tiff', quality: 90, keepMetadata: false }, d);
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height, meta.pages]).toEqual(['tiff', 24, 16, 3]);
    const again = await codec.decode(out, limits);
    expect(again.paged?.pages.map(barAt)).toEqual([2, 6, 10]);
  });

  it('turns each page upright by its orientation', async () => {
    const d = await codec.decode(await multiPageTiff(2, (s) => s.withMetadata({ orientation: 6 })), limits);
    expect(d.paged?.pages.map((p) => [p.width, p.height])).toEqual([
      [16, 24],
      [16, 24],
    ]);
  });

  it('reads pages of other encodings than sharp writes', async () => {
    const d = await codec.decode(
      greyTiff([
        [12, 10],
        [12, 10],
      ]),
      limits,
    );
    expect(d.paged?.pages.map((p) => p.data[0])).toEqual([40, 100]);
  });

  it('refuses pages of different sizes with E_UNSUPPORTED_MEDIA instead of keeping page 1', async () => {
    await expect(
      codec.decode(
        greyTiff([
          [12, 10],
          [12, 10],
          [10, 12],
        ]),
        limits,
      ),
    ).rejects.toThrow('Page 3 of the TIFF is 10x12 and page 1 is 12x10');
  });

  it.each([
    { limits: { maxFrames: 2 }, message: 'The TIFF has 3 pages, more than the limit of 2' },
    {
      limits: { maxPixels: 1000 },
      message: 'The TIFF has 3 pages of 24x16 pixels, 1152 in all, more than the limit of 1000',
    },
    { limits: { minSide: 20 }, message: 'The image is 24x16; both sides must be at least 20 pixels' },
  ])('checks all pages against the limits: $message', async ({ limits: over, message }) => {
    await expect(codec.decode(await multiPageTiff(), { ...limits, ...over })).rejects.toThrow(message);
  });

  it('writes pages only as TIFF', async () => {
    const d = await codec.decode(await multiPageTiff(), limits);
    await expect(
      codec.encode(d.paged!, { format: 'png', quality: 90, keepMetadata: false }, d),
    ).rejects.toMatchObject({ code: 'E_ENCODE' });
  });
});

describe('animated WebP orientation', () => {
  it.each([2, 3, 4, 5, 6, 7, 8])(
    'turns every frame upright as a still image of orientation %i',
    async (o) => {
      const bytes = await animation('webp', 2);
      const oriented = new Uint8Array(
        await sharp(bytes, { pages: -1 })
          .webp({ lossless: true, delay: [50, 100], loop: 3 })
          .withMetadata({ orientation: o })
          .toBuffer(),
      );
      const still = await codec.decode(
        new Uint8Array(await sharp(bytes).png().withMetadata({ orientation: o }).toBuffer()),
        limits,
      );
      const d = await codec.decode(oriented, limits);
      const first = d.animation!.frames[0]!;
      expect([first.width, first.height]).toEqual([still.image.width, still.image.height]);
      const rgb = (f: { data: Uint8Array; channels: number }) =>
        Array.from({ length: f.data.length / f.channels }, (_, i) => f.data[i * f.channels]);
      expect(rgb(first)).toEqual(rgb(still.image));
    },
  );
});

describe('animated AVIF', () => {
  it.each([
    { name: 'major', patch: (b: Buffer) => b.write('avis', 8, 'latin1') },
    { name: 'compatible', patch: (b: Buffer) => b.write('avis', 20, 'latin1') },
  ])('refuses an image sequence ($name brand) instead of reading its first frame', async ({ patch }) => {
    const bytes = Buffer.from(await sample('avif'));
    patch(bytes);
    const error = await codec.decode(new Uint8Array(bytes), limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NestorError);
    expect((error as NestorError).code).toBe('E_UNSUPPORTED_MEDIA');
    expect((error as NestorError).message).toMatch(/animated AVIF/);
  });
});

describe('HEIC', () => {
  const fixture = (name: string) =>
    new Uint8Array(readFileSync(new URL(`../fixtures/${name}.heic`, import.meta.url)));
  /** The fixtures' six 32x32 colour blocks, row by row, as fixtures/make-heic.mjs drew them. */
  const BLOCKS = JSON.parse(
    readFileSync(new URL('../fixtures/blocks.json', import.meta.url), 'utf8'),
  ) as number[][];
  const at = (image: DecodedImage['image'], x: number, y: number) =>
    Array.from(image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3));
  const near = (got: number[], want: number[]) => got.every((v, i) => Math.abs(v - want[i]!) <= 6);

  it('reads an HEIC photo (HEVC, which sharp cannot decode) to sRGB pixels', async () => {
    const decoded = await codec.decode(fixture('blocks'), limits);
    expect(decoded.format).toBe('heic');
    expect([decoded.image.width, decoded.image.height, decoded.image.channels]).toEqual([96, 64, 3]);
    BLOCKS.forEach((colour, i) => {
      const centre = at(decoded.image, 16 + 32 * (i % 3), 16 + 32 * Math.floor(i / 3));
      expect(near(centre, colour), `block ${i}: ${centre}`).toBe(true);
    });
  });

  it('converts Display P3 colours (an iPhone profile) to sRGB', async () => {
    const decoded = await codec.decode(fixture('blocks-p3'), limits);
    BLOCKS.forEach((colour, i) => {
      const centre = at(decoded.image, 16 + 32 * (i % 3), 16 + 32 * Math.floor(i / 3));
      expect(near(centre, colour), `block ${i}: ${centre}`).toBe(true);
    });
  });

  it('turns the photo upright by its irot transform, as a portrait iPhone photo is stored', async () => {
    const decoded = await codec.decode(fixture('blocks-irot90'), limits);
    expect([decoded.image.width, decoded.image.height]).toEqual([64, 96]);
    // 90° anticlockwise: the right column (blue over white) is now the top row.
    expect(near(at(decoded.image, 16, 16), BLOCKS[2]!)).toBe(true);
    expect(near(at(decoded.image, 48, 16), BLOCKS[5]!)).toBe(true);
    expect(near(at(decoded.image, 16, 80), BLOCKS[0]!)).toBe(true);
  });

  it('makes the quarter-size copy of a large photo', async () => {
    const decoded = await codec.decode(fixture('blocks-large'), limits);
    expect([decoded.image.width, decoded.image.height]).toEqual([2496, 1664]);
    const quarter = decoded.reductions?.[0];
    expect(quarter?.level).toBe(2);
    expect([quarter?.image.width, quarter?.image.height]).toEqual([624, 416]);
    expect(near(at(quarter!.image, 520, 100), BLOCKS[2]!)).toBe(true);
  });

  it.each([
    {
      name: 'a truncated file',
      bytes: () => fixture('blocks').subarray(0, 500),
      limit: {},
      code: 'E_DECODE',
    },
    {
      name: 'a file cut inside its header',
      bytes: () => fixture('blocks').subarray(0, 200),
      limit: {},
      code: 'E_DECODE',
    },
    {
      name: 'more pixels than the limit',
      bytes: () => fixture('blocks'),
      limit: { maxPixels: 96 * 63 },
      code: 'E_TOO_MANY_PIXELS',
    },
    {
      name: 'a side under the minimum',
      bytes: () => fixture('blocks'),
      limit: { minSide: 65 },
      code: 'E_IMAGE_TOO_SMALL',
    },
  ])('refuses $name with $code', async ({ bytes, limit, code }) => {
    const error = await codec.decode(bytes(), { ...limits, ...limit }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NestorError);
    expect((error as NestorError).code).toBe(code);
  });

  it('refuses an HEIC image sequence instead of reading one image of it', async () => {
    const bytes = Buffer.from(fixture('blocks'));
    bytes.write('msf1', 16, 'latin1');
    const error = await codec.decode(new Uint8Array(bytes), limits).catch((e: unknown) => e);
    expect((error as NestorError).code).toBe('E_UNSUPPORTED_MEDIA');
    expect((error as NestorError).message).toMatch(/animated HEIC/);
  });

  it('keeps the EXIF tags on request, written into the JPEG with Orientation 1', async () => {
    const decoded = await codec.decode(fixture('blocks-irot90'), limits);
    const encode = (keepMetadata: boolean) =>
      codec.encode(decoded.image, { format: 'jpeg', quality: 90, keepMetadata }, decoded);
    const [plain, kept] = [
      await sharp(await encode(false)).metadata(),
      await sharp(await encode(true)).metadata(),
    ];
    expect(plain.exif).toBeUndefined();
    expect(kept.exif?.toString('latin1')).toContain('Nestor fixture');
    expect(kept.orientation ?? 1).toBe(1);
    expect([kept.width, kept.height]).toEqual([64, 96]);
  });
});
