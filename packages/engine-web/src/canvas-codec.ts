/// <reference path="./libheif-bundle.d.ts" />
import {
  type AnimatedImage,
  checkImageSize,
  countFrames,
  type DecodedImage,
  type DecodeLimits,
  decodeHeif,
  type EncodeOptions,
  type ImageCodec,
  type ImageFormat,
  imageSequenceUnsupported,
  invalidOption,
  isDisplayP3,
  isImageSequence,
  type LibHeif,
  MIME_TYPES,
  NestorError,
  type RawImage,
  sniffImageFormat,
} from '@nestor/core';
import { readImageSize } from './image-size.ts';

export interface CanvasCodecOptions {
  /**
   * Also make a quarter-size copy of large photos, as the node codec does, for the detectors'
   * coarse views (default true). The browser cannot reproduce sharp's copy exactly (libjpeg's
   * scaled IDCT); its smoothed canvas copy agrees with the server more often than halving in
   * JavaScript does (measured in the README).
   */
  readonly quarterCopy?: boolean;
}

/** From this many pixels up the node codec decodes a quarter-size copy too (sharp-codec.ts). */
const QUARTER_FROM = 4_000_000;

/** libheif compiled to WebAssembly (2 MB): fetched with the first HEIC, as the server reads it. */
let libheif: Promise<LibHeif> | undefined;

/**
 * An HEIC photo as a bitmap: libheif decodes it upright (no browser but Safari can), and a
 * Display P3 photo (an iPhone's) is tagged so, for the canvas to convert it to sRGB as the server's
 * decode does.
 */
async function heicBitmap(bytes: Uint8Array, limits: DecodeLimits): Promise<ImageBitmap> {
  libheif ??= import('libheif-js/libheif-wasm/libheif-bundle.mjs').then((m) => m.default() as LibHeif);
  const image = await decodeHeif(await libheif, bytes, limits);
  const pixels = new ImageData(toRgba(image), image.width, image.height, {
    colorSpace: isDisplayP3(bytes) ? 'display-p3' : 'srgb',
  });
  return createImageBitmap(pixels, { premultiplyAlpha: 'none' });
}

/** The formats whose encoders every current browser has (convertToBlob falls back to PNG otherwise). */
const BROWSER_ENCODABLE: readonly ImageFormat[] = ['jpeg', 'png', 'webp'];

/** Raised for keepMetadata on device: browser encoders write pixels only. */
export function keepMetadataUnsupported(): NestorError {
  return invalidOption('keepMetadata', 'false on this device (browser encoders cannot keep metadata)', true);
}

/**
 * Raised for an animated GIF or WebP on device (`details.animatedFrames` says how many frames):
 * the browser's decoder yields its first frame only.
 */
export function animatedUnsupported(frames: number): NestorError {
  return new NestorError(
    'E_UNSUPPORTED_MEDIA',
    `This image is animated (${frames} frames); on this device only its first frame could be read, so anonymize it on the server`,
    { details: { animatedFrames: frames } },
  );
}

/**
 * The browser's codecs as a core `ImageCodec`: `createImageBitmap` decodes (EXIF orientation applied),
 * an OffscreenCanvas reads the pixels and encodes. No DOM is needed, so it works in a Web Worker.
 * Output never carries metadata: the canvas holds pixels only.
 */
export class CanvasCodec implements ImageCodec {
  constructor(private readonly options: CanvasCodecOptions = {}) {}

  async decode(bytes: Uint8Array, limits: DecodeLimits): Promise<DecodedImage> {
    if (bytes.length === 0) throw new NestorError('E_EMPTY_INPUT');
    const format = sniffImageFormat(bytes);
    if (!format) {
      throw new NestorError(
        'E_UNSUPPORTED_MEDIA',
        'The input is not a JPEG, PNG, WebP, AVIF, HEIC, TIFF or GIF image',
      );
    }
    // The browser decodes only the first frame: anonymizing that alone would leak the others.
    const frames = countFrames(bytes);
    if (frames > 1) throw animatedUnsupported(frames);
    if ((format === 'avif' || format === 'heic') && isImageSequence(bytes))
      throw imageSequenceUnsupported(format);
    const size = readImageSize(bytes, format);
    if (!size) {
      throw new NestorError('E_DECODE', 'The image could not be decoded: it is corrupt or truncated');
    }
    checkImageSize(size.width, size.height, limits);
    let bitmap: ImageBitmap;
    try {
      bitmap =
        format === 'heic'
          ? await heicBitmap(bytes, limits)
          : await createImageBitmap(
              new Blob([bytes as Uint8Array<ArrayBuffer>], { type: MIME_TYPES[format] }),
              {
                imageOrientation: 'from-image',
                premultiplyAlpha: 'none',
                colorSpaceConversion: 'default',
              },
            );
    } catch (error) {
      if (error instanceof NestorError) throw error;
      throw format === 'tiff'
        ? new NestorError(
            'E_UNSUPPORTED_MEDIA',
            'This browser cannot decode TIFF images; use the server instead',
            {
              cause: error,
            },
          )
        : new NestorError('E_DECODE', 'The image could not be decoded: it is corrupt or truncated', {
            cause: error,
          });
    }
    try {
      // The header was read by us, the pixels by the browser: check again what was actually decoded.
      checkImageSize(bitmap.width, bitmap.height, limits);
      const image = readPixels(bitmap, bitmap.width, bitmap.height);
      const quarter =
        (this.options.quarterCopy ?? true) && bitmap.width * bitmap.height >= QUARTER_FROM
          ? readPixels(bitmap, bitmap.width >> 2, bitmap.height >> 2)
          : undefined;
      return {
        image,
        format,
        source: bytes,
        ...(quarter ? { reductions: [{ level: 2, image: quarter }] } : {}),
      };
    } finally {
      bitmap.close();
    }
  }

  async encode(
    image: RawImage | AnimatedImage,
    options: EncodeOptions,
    _original: DecodedImage,
  ): Promise<Uint8Array> {
    if ('frames' in image) throw animatedUnsupported(image.frames.length);
    if (options.keepMetadata) throw keepMetadataUnsupported();
    const type = MIME_TYPES[options.format];
    if (!BROWSER_ENCODABLE.includes(options.format)) {
      throw new NestorError(
        'E_ENCODE',
        `The browser cannot encode ${options.format} images; choose jpeg, png or webp`,
      );
    }
    const canvas = new OffscreenCanvas(image.width, image.height);
    const context = canvas.getContext('2d');
    if (!context) throw new NestorError('E_ENCODE', 'No 2D canvas is available to encode the result');
    context.putImageData(new ImageData(toRgba(image), image.width, image.height), 0, 0);
    let blob: Blob;
    try {
      blob = await canvas.convertToBlob(
        options.format === 'png'
          ? { type }
          : { type, quality: Math.min(1, Math.max(0, options.quality / 100)) },
      );
    } catch (error) {
      throw new NestorError('E_ENCODE', `Could not encode the result as ${options.format}`, { cause: error });
    }
    // Browsers quietly write PNG for a type they cannot encode.
    if (blob.type !== type) {
      throw new NestorError(
        'E_ENCODE',
        `This browser cannot encode ${options.format} images; choose jpeg, png or webp`,
      );
    }
    return new Uint8Array(await blob.arrayBuffer());
  }
}

/** RGBA pixels of the bitmap drawn at `width` x `height` (smoothed when reduced). */
function readPixels(bitmap: ImageBitmap, width: number, height: number): RawImage {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new NestorError('E_DECODE', 'No 2D canvas is available to read the image');
  context.imageSmoothingQuality = 'high';
  context.drawImage(bitmap, 0, 0, width, height);
  const pixels = context.getImageData(0, 0, width, height).data;
  return {
    width,
    height,
    channels: 4,
    data: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length),
  };
}

function toRgba(image: RawImage): Uint8ClampedArray<ArrayBuffer> {
  const { data, width, height } = image;
  if (image.channels === 4) {
    return new Uint8ClampedArray(data.buffer as ArrayBuffer, data.byteOffset, data.length);
  }
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0, o = 0; i < data.length; i += 3, o += 4) {
    rgba[o] = data[i]!;
    rgba[o + 1] = data[i + 1]!;
    rgba[o + 2] = data[i + 2]!;
    rgba[o + 3] = 255;
  }
  return rgba;
}
