import { crc32, deflateSync } from 'node:zlib';
import {
  type AnimatedImage,
  checkImageSize,
  type DecodedImage,
  type DecodeLimits,
  type EncodeOptions,
  type ImageCodec,
  type ImageFormat,
  imageSequenceUnsupported,
  isImageSequence,
  NestorError,
  type PagedImage,
  type RawImage,
  sniffImageFormat,
} from '@nestor/core';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { decodeHeic } from './heic.ts';

sharp.cache(false);

/** Image I/O with sharp (libvips): strict decoding of untrusted input, EXIF orientation applied first. */
export function createSharpCodec(): ImageCodec {
  return { decode, encode };
}

async function decode(bytes: Uint8Array, limits: DecodeLimits): Promise<DecodedImage> {
  if (bytes.length === 0) throw new NestorError('E_EMPTY_INPUT');
  const format = sniffImageFormat(bytes);
  if (!format)
    throw new NestorError(
      'E_UNSUPPORTED_MEDIA',
      'The input is not a JPEG, PNG, WebP, AVIF, HEIC, TIFF or GIF image',
    );
  // libheif reads only the still item of a sequence (or nothing): frame 1 alone would drop the rest.
  if ((format === 'avif' || format === 'heic') && isImageSequence(bytes))
    throw imageSequenceUnsupported(format);
  if (format === 'heic') return decodeHeicPhoto(bytes, limits);
  const input = sharp(bytes, { failOn: 'error', limitInputPixels: limits.maxPixels, pages: 1 });
  let meta: Metadata;
  try {
    meta = await input.metadata();
  } catch (error) {
    throw decodeError(error);
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if ((format === 'gif' || format === 'webp') && (meta.pages ?? 1) > 1) {
    return decodeAnimation(bytes, format, meta, limits);
  }
  if (format === 'tiff' && (meta.pages ?? 1) > 1) return decodePages(bytes, meta.pages ?? 1, limits);
  checkImageSize(w, h, limits);
  const channels = meta.hasAlpha ? 4 : 3;
  const toRaw = (p: Sharp) => rawSrgb(p, channels);
  const [uprightW, uprightH] = (meta.orientation ?? 1) >= 5 ? [h, w] : [w, h];
  // Large photos also get a quarter-size copy, decoded natively in parallel (JPEG shrink-on-load):
  // the detectors' coarse views read it instead of halving megapixels twice in JavaScript.
  const quarter = w * h >= QUARTER_FROM && uprightW >= 8 && uprightH >= 8;
  try {
    const [full, small] = await Promise.all([
      toRaw(input.rotate()),
      quarter
        ? toRaw(
            sharp(bytes, { failOn: 'error', limitInputPixels: limits.maxPixels, pages: 1 })
              .rotate()
              .resize(uprightW >> 2, uprightH >> 2, { fit: 'fill' }),
          )
        : undefined,
    ]);
    return {
      image: raw(full),
      format,
      source: bytes,
      ...(small ? { reductions: [{ level: 2, image: raw(small) }] } : {}),
    };
  } catch (error) {
    throw decodeError(error);
  }
}

/**
 * An HEIC photo: libheif (WebAssembly) decodes it upright, then its colour profile, which sharp
 * reads from the header (an iPhone's is Display P3), converts the pixels to sRGB as for any input.
 */
async function decodeHeicPhoto(bytes: Uint8Array, limits: DecodeLimits): Promise<DecodedImage> {
  let icc: Buffer | undefined;
  try {
    ({ icc } = await sharp(bytes, { failOn: 'error', limitInputPixels: limits.maxPixels }).metadata());
  } catch (error) {
    throw decodeError(error);
  }
  const decoded = await decodeHeic(bytes, limits);
  const image = icc ? raw(await rawSrgb(await withInputProfile(decoded, icc), decoded.channels)) : decoded;
  const quarter =
    image.width * image.height >= QUARTER_FROM
      ? raw(
          await rawPixels(image)
            .resize(image.width >> 2, image.height >> 2, { fit: 'fill' })
            .raw()
            .toBuffer({ resolveWithObject: true }),
        )
      : undefined;
  return {
    image,
    format: 'heic',
    source: bytes,
    ...(quarter ? { reductions: [{ level: 2, image: quarter }] } : {}),
  };
}

/**
 * Raw pixels tagged with the colour profile they are in, for libvips to convert: sharp takes a
 * profile only from its input, so it travels in the iCCP chunk of a lossless PNG of the pixels.
 */
async function withInputProfile(image: RawImage, icc: Buffer): Promise<Sharp> {
  const png = await rawPixels(image).png({ compressionLevel: 0, adaptiveFiltering: false }).toBuffer();
  // iCCP: profile name, its null terminator, compression method 0 (zlib), the compressed profile.
  const payload = Buffer.concat([Buffer.from('icc\0\0', 'latin1'), deflateSync(icc)]);
  return sharp(withPngChunk(png, 'iCCP', payload), {
    failOn: 'error',
    limitInputPixels: image.width * image.height,
  });
}

/** A frame's or page's sides; their pixels together are checked by `checkAllPixels`. */
function checkSides(w: number, h: number, minSide: number): void {
  checkImageSize(w, h, { maxPixels: Number.POSITIVE_INFINITY, minSide });
}

/** sharp's raw output as a RawImage, sharing its memory. */
function raw(r: { data: Buffer; info: { width: number; height: number; channels: number } }): RawImage {
  return {
    width: r.info.width,
    height: r.info.height,
    channels: r.info.channels as 3 | 4,
    data: new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.length),
  };
}

const rawSrgb = (p: Sharp, channels: 3 | 4) =>
  p
    .toColourspace('srgb')
    [channels === 4 ? 'ensureAlpha' : 'removeAlpha']()
    .raw()
    .toBuffer({ resolveWithObject: true });

/**
 * Every frame of an animated GIF or WebP, checked from the header first: the frame count, and
 * the pixels of all frames together against the pixel limit. libvips stacks the frames vertically
 * in one buffer; each frame is a view into it, turned upright one by one where the WebP's EXIF
 * orientation asks (libvips rotates no multi-page image).
 */
async function decodeAnimation(
  bytes: Uint8Array,
  format: ImageFormat,
  meta: Metadata,
  limits: DecodeLimits,
): Promise<DecodedImage> {
  const { width = 0, height = 0, pages = 1 } = meta;
  const what = `The animation has ${pages} frames`;
  checkFrameCount(pages, limits, what);
  checkAllPixels(pages, width, height, limits, what);
  checkSides(width, height, limits.minSide);
  const channels: 3 | 4 = meta.hasAlpha ? 4 : 3;
  let stacked: Awaited<ReturnType<typeof rawSrgb>>;
  try {
    stacked = await rawSrgb(
      sharp(bytes, { failOn: 'error', limitInputPixels: limits.maxPixels, pages: -1 }),
      channels,
    );
  } catch (error) {
    throw decodeError(error);
  }
  const { data, info } = stacked;
  if (info.width !== width || info.height !== height * pages) {
    throw new NestorError(
      'E_DECODE',
      `The animation's ${pages} frames do not all have its ${width}x${height} size`,
    );
  }
  const frameBytes = width * height * channels;
  const stored = Array.from(
    { length: pages },
    (_, i): RawImage => ({
      width,
      height,
      channels,
      data: new Uint8Array(data.buffer, data.byteOffset + i * frameBytes, frameBytes),
    }),
  );
  const orientation = meta.orientation ?? 1;
  const frames = orientation === 1 ? stored : await Promise.all(stored.map((f) => upright(f, orientation)));
  // GIF and WebP readers report one delay per frame; a missing one shows as browsers do (100 ms).
  const delays = frames.map((_, i) => meta.delay?.[i] ?? DEFAULT_DELAY_MS);
  return {
    image: frames[0]!,
    format,
    source: bytes,
    animation: { frames, delays, loop: meta.loop ?? 0 },
  };
}

/** More frames (pages) than `maxFrames` are refused; `what` is e.g. "The animation has 4 frames". */
function checkFrameCount(count: number, limits: DecodeLimits, what: string): void {
  if (count > limits.maxFrames) {
    throw new NestorError('E_INPUT_TOO_LARGE', `${what}, more than the limit of ${limits.maxFrames}`);
  }
}

/** All frames' (pages') pixels together over `maxPixels` are refused. */
function checkAllPixels(
  count: number,
  width: number,
  height: number,
  limits: DecodeLimits,
  what: string,
): void {
  const pixels = width * height * count;
  if (pixels > limits.maxPixels) {
    throw new NestorError(
      'E_TOO_MANY_PIXELS',
      `${what} of ${width}x${height} pixels, ${pixels} in all, more than the limit of ${limits.maxPixels}`,
    );
  }
}

/**
 * EXIF orientations as sharp operations: the mirror (sharp mirrors before it turns), then the
 * clockwise turn that makes the stored pixels upright.
 */
const ORIENTATIONS: Readonly<Record<number, { readonly flop: boolean; readonly angle: number }>> = {
  2: { flop: true, angle: 0 },
  3: { flop: false, angle: 180 },
  4: { flop: true, angle: 180 },
  5: { flop: true, angle: 270 },
  6: { flop: false, angle: 90 },
  7: { flop: true, angle: 90 },
  8: { flop: false, angle: 270 },
};

/** One stored frame turned upright as its EXIF orientation says. */
async function upright(frame: RawImage, orientation: number): Promise<RawImage> {
  const turn = ORIENTATIONS[orientation];
  if (!turn) return frame;
  return raw(
    await rawPixels(frame).flop(turn.flop).rotate(turn.angle).raw().toBuffer({ resolveWithObject: true }),
  );
}

/**
 * Every page of a multi-page TIFF, each its own image read upright, checked from the headers
 * first: the page count, and all pages' pixels together against the pixel limit. The pages are
 * written back as one multi-page TIFF, so they must share one upright size.
 */
async function decodePages(bytes: Uint8Array, count: number, limits: DecodeLimits): Promise<DecodedImage> {
  const what = `The TIFF has ${count} pages`;
  checkFrameCount(count, limits, what);
  const open = (page: number) =>
    sharp(bytes, { failOn: 'error', limitInputPixels: limits.maxPixels, page, pages: 1 });
  const indices = Array.from({ length: count }, (_, i) => i);
  let metas: Metadata[];
  try {
    metas = await Promise.all(indices.map((i) => open(i).metadata()));
  } catch (error) {
    throw decodeError(error);
  }
  const sizes = metas.map(({ width = 0, height = 0, orientation = 1 }) =>
    orientation >= 5 ? [height, width] : [width, height],
  );
  const [width = 0, height = 0] = sizes[0]!;
  const other = sizes.findIndex(([w, h]) => w !== width || h !== height);
  if (other > 0) {
    throw new NestorError(
      'E_UNSUPPORTED_MEDIA',
      `Page ${other + 1} of the TIFF is ${sizes[other]!.join('x')} and page 1 is ${width}x${height}; a multi-page TIFF is anonymized only when all its pages have one size — split it into one file per page`,
      { details: { pages: count } },
    );
  }
  checkAllPixels(count, width, height, limits, what);
  checkSides(width, height, limits.minSide);
  const channels: 3 | 4 = metas.some((m) => m.hasAlpha) ? 4 : 3;
  let pages: RawImage[];
  try {
    pages = await Promise.all(indices.map(async (i) => raw(await rawSrgb(open(i).rotate(), channels))));
  } catch (error) {
    throw decodeError(error);
  }
  return { image: pages[0]!, format: 'tiff', source: bytes, paged: { pages } };
}

const DEFAULT_DELAY_MS = 100;

/** From this many pixels up a quarter-size copy is decoded too. */
const QUARTER_FROM = 4_000_000;

function decodeError(error: unknown): NestorError {
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message))
    return new NestorError('E_TOO_MANY_PIXELS', 'The image has more pixels than the limit', { cause: error });
  return new NestorError('E_DECODE', 'The image could not be decoded: it is corrupt or truncated', {
    cause: error,
  });
}

async function encode(
  image: RawImage | AnimatedImage | PagedImage,
  options: EncodeOptions,
  original: DecodedImage,
): Promise<Uint8Array> {
  try {
    const out =
      'frames' in image || 'pages' in image
        ? await stackedOutput(image, options, original)
        : await withFormat(
            options.keepMetadata ? await withOriginalMetadata(image, original) : rawPixels(image),
            options.format,
            options.quality,
          ).toBuffer();
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } catch (error) {
    throw new NestorError('E_ENCODE', `Could not encode the result as ${options.format}`, { cause: error });
  }
}

function rawPixels(image: RawImage): Sharp {
  const { width, height, channels } = image;
  // sharp's default limit (268 MP) would refuse an image that the configured limit let through
  return sharp(image.data, { raw: { width, height, channels }, limitInputPixels: width * height });
}

/**
 * An animated GIF or WebP with its delays and loop count, or a multi-page TIFF, from the frames
 * (pages) stacked as libvips reads them. keepMetadata adds XMP and the sRGB profile only: the EXIF
 * carrier is a still PNG.
 */
async function stackedOutput(
  image: AnimatedImage | PagedImage,
  options: EncodeOptions,
  original: DecodedImage,
): Promise<Buffer> {
  const frames = 'frames' in image ? image.frames : image.pages;
  const { width, height, channels } = frames[0]!;
  const pixels = width * height * frames.length;
  let pipeline = sharp(Buffer.concat(frames.map((f) => f.data)), {
    raw: { width, height: height * frames.length, channels, pageHeight: height },
    limitInputPixels: pixels,
  });
  if (options.keepMetadata) {
    const meta = await originalMetadata(original, pixels);
    if (meta.icc) pipeline = pipeline.withIccProfile('srgb');
    if (meta.xmpAsString) pipeline = pipeline.withXmp(meta.xmpAsString);
  }
  if ('pages' in image) {
    if (options.format !== 'tiff') {
      throw new NestorError('E_ENCODE', `${options.format} cannot hold pages; write TIFF`);
    }
    return withFormat(pipeline, 'tiff', options.quality).toBuffer();
  }
  const timing = { delay: [...image.delays], loop: image.loop };
  switch (options.format) {
    case 'gif':
      return pipeline.gif(timing).toBuffer();
    case 'webp':
      return pipeline.webp({ quality: options.quality, ...timing }).toBuffer();
    default:
      throw new NestorError('E_ENCODE', `${options.format} cannot hold an animation; write GIF or WebP`);
  }
}

/** The original's metadata; the bytes are still untrusted: no more pixels than the decode accepted. */
function originalMetadata(original: DecodedImage, pixels: number): Promise<Metadata> {
  return sharp(original.source, { failOn: 'error', limitInputPixels: pixels, pages: 1 }).metadata();
}

/**
 * The redacted pixels exactly as without keepMetadata, with the original's EXIF, XMP and ICC profile.
 * Compositing onto the original instead blends through its alpha and keeps its bit depth.
 */
async function withOriginalMetadata(image: RawImage, original: DecodedImage): Promise<Sharp> {
  const meta = await originalMetadata(original, original.image.width * original.image.height);
  const exif = meta.exif && uprightExif(meta.exif);
  let pipeline = exif ? await exifCarrier(image, exif) : rawPixels(image);
  // The decode converted the pixels to sRGB, so sRGB describes them (a no-op on 8-bit sRGB pixels).
  if (meta.icc) pipeline = pipeline.withIccProfile('srgb');
  if (meta.xmpAsString) pipeline = pipeline.withXmp(meta.xmpAsString);
  return pipeline;
}

/**
 * sharp writes EXIF only from its input or from key/value pairs, so the whole block travels in an
 * eXIf chunk of a lossless PNG of the pixels, which libvips reads back and writes out again.
 */
async function exifCarrier(image: RawImage, tiff: Buffer): Promise<Sharp> {
  const png = await rawPixels(image).png({ compressionLevel: 0, adaptiveFiltering: false }).toBuffer();
  return sharp(withPngChunk(png, 'eXIf', tiff), {
    failOn: 'error',
    limitInputPixels: image.width * image.height,
  }).keepExif();
}

/** A PNG with one more chunk right after its IHDR, where eXIf and iCCP must come (before the pixels). */
function withPngChunk(png: Buffer, type: 'eXIf' | 'iCCP', payload: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + payload.length);
  chunk.writeUInt32BE(payload.length, 0);
  chunk.write(type, 4, 'latin1');
  payload.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + payload.length)), 8 + payload.length);
  return Buffer.concat([png.subarray(0, PNG_IHDR_END), chunk, png.subarray(PNG_IHDR_END)]);
}

/** The PNG signature and IHDR chunk. */
const PNG_IHDR_END = 8 + 25;

/**
 * The original's EXIF as a TIFF block fit for the upright, redacted pixels: Orientation 1, and IFD1
 * unlinked because its thumbnail shows the unredacted photo. Undefined (dropped) unless it is TIFF.
 */
function uprightExif(exif: Buffer): Buffer | undefined {
  const tiff = Buffer.from(exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif);
  const order = tiff.toString('latin1', 0, 2);
  if (tiff.length < 8 || (order !== 'II' && order !== 'MM')) return undefined;
  const le = order === 'II';
  const u16 = (at: number) => (le ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const ifd0 = le ? tiff.readUInt32LE(4) : tiff.readUInt32BE(4);
  if (u16(2) !== 42 || ifd0 + 2 > tiff.length) return undefined;
  const next = ifd0 + 2 + 12 * u16(ifd0);
  if (next + 4 > tiff.length) return undefined;
  for (let entry = ifd0 + 2; entry < next; entry += 12) {
    if (u16(entry) !== EXIF_ORIENTATION) continue;
    if (le) tiff.writeUInt16LE(1, entry + 8);
    else tiff.writeUInt16BE(1, entry + 8);
  }
  // IFD0's link to IFD1; zero reads the same in either byte order
  tiff.writeUInt32LE(0, next);
  return tiff;
}

const EXIF_ORIENTATION = 0x0112;

function withFormat(p: Sharp, format: ImageFormat, quality: number): Sharp {
  switch (format) {
    case 'jpeg':
      return p.jpeg({ quality, mozjpeg: false });
    case 'png':
      return p.png({ compressionLevel: 6 });
    case 'webp':
      return p.webp({ quality });
    case 'avif':
      return p.avif({ quality });
    case 'tiff':
      // Lossless: TIFF inputs are usually archival scans.
      return p.tiff({ compression: 'lzw' });
    case 'gif':
      return p.gif();
  }
}
