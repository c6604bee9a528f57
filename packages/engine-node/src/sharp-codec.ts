import { crc32 } from 'node:zlib';
import {
  type DecodedImage,
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

async function decode(
  bytes: Uint8Array,
  limits: { maxPixels: number; minSide: number },
): Promise<DecodedImage> {
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
  if (w * h > limits.maxPixels) {
    throw new NestorError(
      'E_TOO_MANY_PIXELS',
      `The image has ${w}x${h} pixels, more than the limit of ${limits.maxPixels}`,
    );
  }
  if (Math.min(w, h) < limits.minSide) {
    throw new NestorError(
      'E_IMAGE_TOO_SMALL',
      `The image is ${w}x${h}; both sides must be at least ${limits.minSide} pixels`,
    );
  }
  const channels = meta.hasAlpha ? 4 : 3;
  const toRaw = (p: Sharp) =>
    p
      .toColourspace('srgb')
      [channels === 4 ? 'ensureAlpha' : 'removeAlpha']()
      .raw()
      .toBuffer({ resolveWithObject: true });
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

async function encode(image: RawImage, options: EncodeOptions, original: DecodedImage): Promise<Uint8Array> {
  try {
    const pipeline = options.keepMetadata ? await withOriginalMetadata(image, original) : rawPixels(image);
    const out = await withFormat(pipeline, options.format, options.quality).toBuffer();
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
 * The redacted pixels exactly as without keepMetadata, with the original's EXIF, XMP and ICC profile.
 * Compositing onto the original instead blends through its alpha and keeps its bit depth.
 */
async function withOriginalMetadata(image: RawImage, original: DecodedImage): Promise<Sharp> {
  const meta = await sharp(original.source, {
    failOn: 'error',
    // The bytes are still untrusted: no more pixels than the decode accepted.
    limitInputPixels: original.image.width * original.image.height,
    pages: 1,
  }).metadata();
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
