import { NestorError } from './errors.ts';

/** Decoded pixels: interleaved 8-bit channels, row-major, no padding between rows. */
export interface RawImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
  readonly data: Uint8Array;
}

/**
 * Image formats Nestor reads and writes. GIF and WebP may be animated: every frame is read and
 * anonymized (see `countFrames`); a still GIF is written back as PNG (lossless, no new palette).
 * Every page of a multi-page TIFF is anonymized; an image sequence (animated AVIF or HEIC) is
 * refused (`isImageSequence`).
 */
export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'tiff', 'gif'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/**
 * Formats read but not written: HEIC (the iPhone's HEVC-coded HEIF), whose encoder no codec
 * Nestor runs has, is written as JPEG unless another format is asked for.
 */
export const INPUT_FORMATS = [...IMAGE_FORMATS, 'heic'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export const MIME_TYPES: Readonly<Record<ImageFormat, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  tiff: 'image/tiff',
  gif: 'image/gif',
};

export const FILE_EXTENSIONS: Readonly<Record<ImageFormat, string>> = {
  jpeg: '.jpg',
  png: '.png',
  webp: '.webp',
  avif: '.avif',
  tiff: '.tiff',
  gif: '.gif',
};

/** HEIF brands of HEVC-coded images (ISO/IEC 23008-12 Annex B): stills, then sequences. */
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
/** Brands that announce an image sequence (an animation): AVIF's, HEIF's and HEVC's. */
const SEQUENCE_BRANDS = new Set(['avis', 'msf1', 'hevc', 'hevx', 'hevm', 'hevs']);

/**
 * Identifies an image format from its first bytes, never from a file name or declared type.
 * Returns undefined for anything else.
 */
export function sniffImageFormat(bytes: Uint8Array): InputFormat | undefined {
  const b = (i: number) => bytes[i] ?? -1;
  const ascii = (from: number, text: string) => [...text].every((c, i) => b(from + i) === c.charCodeAt(0));
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  if (ascii(0, '\x89PNG\r\n\x1a\n')) return 'png';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'gif';
  if (ascii(0, 'II*\0') || ascii(0, 'MM\0*')) return 'tiff';
  if (ascii(4, 'ftyp')) {
    const brands = ftypBrands(bytes);
    if (brands.some((brand) => brand === 'avif' || brand === 'avis')) return 'avif';
    if (brands.some((brand) => HEIC_BRANDS.has(brand))) return 'heic';
  }
  return undefined;
}

/** An ISO-BMFF ftyp box's major brand, then its compatible brands (a `mif1` file may be AVIF only there). */
function ftypBrands(bytes: Uint8Array): string[] {
  const size = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  const end = Math.min(size, bytes.length);
  const brands: string[] = [];
  // Major brand at 8, minor version at 12, then compatible brands.
  for (let at = 8; at + 4 <= end; at += at === 8 ? 8 : 4)
    brands.push(String.fromCharCode(...bytes.subarray(at, at + 4)));
  return brands;
}

/**
 * How many frames an image holds, read from its bytes alone: image descriptors of a GIF, ANMF
 * chunks of a WebP whose VP8X header has the animation flag; 1 for every other image. A truncated
 * file counts the frames before the cut (those are all a decoder can show).
 * @example countFrames(animatedGifBytes) // 12
 */
export function countFrames(bytes: Uint8Array): number {
  switch (sniffImageFormat(bytes)) {
    case 'gif':
      return Math.max(1, gifFrames(bytes));
    case 'webp':
      return Math.max(1, webpFrames(bytes));
    default:
      return 1;
  }
}

/**
 * Whether an AVIF or HEIC holds an image sequence (an animation): its ftyp box names a sequence
 * brand (`avis`, `msf1`, `hevc`...), as major or compatible brand (ISO/IEC 23000-22 §7.2,
 * ISO/IEC 23008-12 Annex B). False for every other input.
 * @example isImageSequence(animatedAvifBytes) // true
 */
export function isImageSequence(bytes: Uint8Array): boolean {
  const format = sniffImageFormat(bytes);
  return (format === 'avif' || format === 'heic') && ftypBrands(bytes).some((b) => SEQUENCE_BRANDS.has(b));
}

/**
 * Raised for an animated AVIF or HEIC: no codec Nestor runs reads its frames, and frame 1 alone
 * would drop the rest.
 */
export function imageSequenceUnsupported(format: 'avif' | 'heic'): NestorError {
  const name = format === 'avif' ? 'AVIF' : 'HEIC';
  return new NestorError(
    'E_UNSUPPORTED_MEDIA',
    `The input is an animated ${name} (an image sequence), which cannot be read frame by frame; convert it to an animated WebP or GIF, or a video`,
    { details: { format, sequence: true } },
  );
}

/** GIF89a §17-§24: after the screen descriptor (and its colour table), blocks until the trailer. */
function gifFrames(bytes: Uint8Array): number {
  const colourTable = (flags: number) => (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
  /** Position after the data sub-blocks starting at `at` (each a length byte, ended by a zero). */
  const skipSubBlocks = (at: number) => {
    let p = at;
    while (p < bytes.length && bytes[p] !== 0) p += 1 + bytes[p]!;
    return p + 1;
  };
  let frames = 0;
  let p = 13 + colourTable(bytes[10] ?? 0);
  while (p < bytes.length) {
    const block = bytes[p];
    if (block === 0x21) p = skipSubBlocks(p + 2);
    else if (block === 0x2c) {
      // Descriptor (10 bytes), local colour table, LZW minimum code size, then the image data.
      if (p + 10 > bytes.length) break;
      frames++;
      p = skipSubBlocks(p + 10 + colourTable(bytes[p + 9]!) + 1);
    } else break;
  }
  return frames;
}

/** WebP container: a VP8X first chunk (flags at byte 20, animation = 0x02), then chunks padded to even sizes. */
function webpFrames(bytes: Uint8Array): number {
  const fourcc = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  const animated = fourcc(12) === 'VP8X' && ((bytes[20] ?? 0) & 0x02) !== 0;
  if (!animated) return 1;
  let frames = 0;
  for (let p = 12; p + 8 <= bytes.length; ) {
    if (fourcc(p) === 'ANMF') frames++;
    const size = (bytes[p + 4]! | (bytes[p + 5]! << 8) | (bytes[p + 6]! << 16) | (bytes[p + 7]! << 24)) >>> 0;
    p += 8 + size + (size & 1);
  }
  return frames;
}

/** Mean luma (BT.601, 0..255) of the pixels of `image` inside integer bounds, optionally masked. */
export function meanLuma(
  image: RawImage,
  bounds: { x0: number; y0: number; x1: number; y1: number },
  inside: (x: number, y: number) => boolean = () => true,
): number {
  const { data, width, channels } = image;
  let sum = 0;
  let count = 0;
  for (let y = bounds.y0; y < bounds.y1; y++) {
    for (let x = bounds.x0; x < bounds.x1; x++) {
      if (!inside(x, y)) continue;
      const i = (y * width + x) * channels;
      sum += 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
      count++;
    }
  }
  return count > 0 ? sum / count : 0;
}

/**
 * Each frame's start, in ms from the first frame, of an animation with these delays (a frame
 * past the delays given starts where the last one did).
 * @example frameStarts([80, 80, 400]) // [0, 80, 160]
 */
export function frameStarts(delaysMs: readonly number[], frames = delaysMs.length): number[] {
  const starts: number[] = [];
  let elapsed = 0;
  for (let index = 0; index < frames; index++) {
    starts.push(elapsed);
    elapsed += delaysMs[index] ?? 0;
  }
  return starts;
}
