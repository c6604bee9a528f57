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
  const raw = { width: image.width, height: image.height, channels: image.channels };
  // Metadata only survives through a pipeline started from the original bytes.
  let pipeline = options.keepMetadata
    ? sharp(original.source, { failOn: 'error', pages: 1 })
        .rotate()
        .composite([
          {
            input: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length),
            raw,
            left: 0,
            top: 0,
          },
        ])
        .keepMetadata()
        .withMetadata({ orientation: 1 })
    : sharp(image.data, { raw });
  pipeline = withFormat(pipeline, options.format, options.quality);
  try {
    const out = await pipeline.toBuffer();
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } catch (error) {
    throw new NestorError('E_ENCODE', `Could not encode the result as ${options.format}`, { cause: error });
  }
}

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
