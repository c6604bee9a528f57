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
  try {
    const { data, info } = await input
      .rotate()
      .toColourspace('srgb')
      [channels === 4 ? 'ensureAlpha' : 'removeAlpha']()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const image: RawImage = {
      width: info.width,
      height: info.height,
      channels: info.channels as 3 | 4,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
    return { image, format, source: bytes };
  } catch (error) {
    throw decodeError(error);
  }
}

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
