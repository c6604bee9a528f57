import { crc32 } from 'node:zlib';
import {
  type AnimatedImage,
  type DecodedImage,
  type DecodeLimits,
  type EncodeOptions,
  type ImageCodec,
  type ImageFormat,
  NestorError,
  type RawImage,
  sniffImageFormat,
} from '@nestor/core';
import sharp, { type Metadata, type Sharp } from 'sharp';

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
      'The input is not a JPEG, PNG, WebP, AVIF, TIFF or GIF image',
    );
  const input = sharp(bytes, { failOn: 'error', limitInputPixels: limits.maxPixels, pages: 1 });
  let meta: Metadata;
  try {
    meta = await input.metadata();
  } catch (error) {
    throw decodeError(error);
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  // TIFF pages are separate images, not frames: only GIF and WebP animate.
  if ((format === 'gif' || format === 'webp') && (meta.pages ?? 1) > 1) {
    return decodeAnimation(bytes, format, meta, limits);
  }
  if (w * h > limits.maxPixels) {
    throw new NestorError(
      'E_TOO_MANY_PIXELS',
      `The image has ${w}x${h} pixels, more than the limit of ${limits.maxPixels}`,
    );
  }
  checkSides(w, h, limits.minSide);
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
    const raw = (r: {
      data: Buffer;
      info: { width: number; height: number; channels: number };
    }): RawImage => ({
      width: r.info.width,
      height: r.info.height,
      channels: r.info.channels as 3 | 4,
      data: new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.length),
    });
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

function checkSides(w: number, h: number, minSide: number): void {
  if (Math.min(w, h) < minSide) {
    throw new NestorError(
      'E_IMAGE_TOO_SMALL',
      `The image is ${w}x${h}; both sides must be at least ${minSide} pixels`,
    );
  }
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
 * in one buffer; each frame is a view into it. Frames are read as stored (no EXIF orientation).
 */
async function decodeAnimation(
  bytes: Uint8Array,
  format: ImageFormat,
  meta: Metadata,
  limits: DecodeLimits,
): Promise<DecodedImage> {
  const { width = 0, height = 0, pages = 1 } = meta;
  if (pages > limits.maxFrames) {
    throw new NestorError(
      'E_INPUT_TOO_LARGE',
      `The animation has ${pages} frames, more than the limit of ${limits.maxFrames}`,
    );
  }
  if (width * height * pages > limits.maxPixels) {
    throw new NestorError(
      'E_TOO_MANY_PIXELS',
      `The animation has ${pages} frames of ${width}x${height} pixels, ${width * height * pages} in all, more than the limit of ${limits.maxPixels}`,
    );
  }
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
  const frames = Array.from(
    { length: pages },
    (_, i): RawImage => ({
      width,
      height,
      channels,
      data: new Uint8Array(data.buffer, data.byteOffset + i * frameBytes, frameBytes),
    }),
  );
  // GIF and WebP readers report one delay per frame; a missing one shows as browsers do (100 ms).
  const delays = frames.map((_, i) => meta.delay?.[i] ?? DEFAULT_DELAY_MS);
  return {
    image: frames[0]!,
    format,
    source: bytes,
    animation: { frames, delays, loop: meta.loop ?? 0 },
  };
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
  image: RawImage | AnimatedImage,
  options: EncodeOptions,
  original: DecodedImage,
): Promise<Uint8Array> {
  try {
    const out =
      'frames' in image
        ? await animatedOutput(image, options, original)
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
 * An animated GIF or WebP from the frames stacked as libvips reads them, with their delays and loop
 * count. keepMetadata adds XMP and the sRGB profile only: the EXIF carrier is a still PNG.
 */
async function animatedOutput(
  animation: AnimatedImage,
  options: EncodeOptions,
  original: DecodedImage,
): Promise<Buffer> {
  const { frames, delays, loop } = animation;
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
  const timing = { delay: [...delays], loop };
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
  const chunk = Buffer.alloc(12 + tiff.length);
  chunk.writeUInt32BE(tiff.length, 0);
  chunk.write('eXIf', 4, 'latin1');
  tiff.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + tiff.length)), 8 + tiff.length);
  const carrier = Buffer.concat([png.subarray(0, PNG_IHDR_END), chunk, png.subarray(PNG_IHDR_END)]);
  return sharp(carrier, { failOn: 'error', limitInputPixels: image.width * image.height }).keepExif();
}

/** The PNG signature and IHDR chunk: eXIf goes right after them, before the pixel data. */
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
