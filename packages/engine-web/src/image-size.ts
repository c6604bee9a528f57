import { heifProperties, type InputFormat } from '@nestor/core';

/** Stored width and height (before EXIF orientation). */
export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

/**
 * Reads an image's stored size from its header, so the pixel limit is enforced before the browser
 * decodes (and allocates) anything. Returns undefined when the header is missing or truncated.
 */
export function readImageSize(bytes: Uint8Array, format: InputFormat): ImageSize | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = (width: number, height: number): ImageSize | undefined =>
    width > 0 && height > 0 ? { width, height } : undefined;
  const fits = (offset: number, length: number) => offset >= 0 && offset + length <= bytes.length;
  switch (format) {
    case 'png':
      // IHDR is always the first chunk: width and height at 16 and 20, big-endian.
      return fits(16, 8) ? size(view.getUint32(16), view.getUint32(20)) : undefined;
    case 'gif':
      return fits(6, 4) ? size(view.getUint16(6, true), view.getUint16(8, true)) : undefined;
    case 'jpeg':
      return jpegSize(bytes, view, fits, size);
    case 'webp':
      return webpSize(bytes, view, fits, size);
    case 'tiff':
      return tiffSize(view, fits, size);
    case 'avif':
    case 'heic':
      return heifSize(bytes);
  }
}

type Fits = (offset: number, length: number) => boolean;
type Size = (width: number, height: number) => ImageSize | undefined;

/** Start-of-frame markers (baseline, progressive, lossless, arithmetic…) carry the frame size. */
const JPEG_SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function jpegSize(bytes: Uint8Array, view: DataView, fits: Fits, size: Size): ImageSize | undefined {
  let i = 2;
  while (fits(i, 4)) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    // Markers without a length: TEM, RSTn, SOI, EOI.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      i += 2;
      continue;
    }
    if (JPEG_SOF.has(marker))
      return fits(i + 5, 4) ? size(view.getUint16(i + 7), view.getUint16(i + 5)) : undefined;
    i += 2 + view.getUint16(i + 2);
  }
  return undefined;
}

function webpSize(bytes: Uint8Array, view: DataView, fits: Fits, size: Size): ImageSize | undefined {
  if (!fits(12, 4)) return undefined;
  const chunk = String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!);
  if (chunk === 'VP8 ' && fits(26, 4))
    return size(view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff);
  if (chunk === 'VP8L' && fits(21, 4)) {
    const bits = view.getUint32(21, true);
    return size((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (chunk === 'VP8X' && fits(24, 6)) {
    const u24 = (at: number) => bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16);
    return size(u24(24) + 1, u24(27) + 1);
  }
  return undefined;
}

function tiffSize(view: DataView, fits: Fits, size: Size): ImageSize | undefined {
  if (!fits(0, 8)) return undefined;
  const little = view.getUint8(0) === 0x49;
  const ifd = view.getUint32(4, little);
  if (!fits(ifd, 2)) return undefined;
  const entries = view.getUint16(ifd, little);
  let width = 0;
  let height = 0;
  for (let e = 0; e < entries; e++) {
    const at = ifd + 2 + e * 12;
    if (!fits(at, 12)) return undefined;
    const tag = view.getUint16(at, little);
    if (tag !== 256 && tag !== 257) continue;
    // SHORT (3) values sit in the first two bytes of the value field, LONG (4) fill it.
    const value =
      view.getUint16(at + 2, little) === 3 ? view.getUint16(at + 8, little) : view.getUint32(at + 8, little);
    if (tag === 256) width = value;
    else height = value;
  }
  return size(width, height);
}

/**
 * AVIF and HEIC (both HEIF): the `ispe` properties. A file may hold several (a grid and its
 * tiles, a thumbnail): the largest counts, which errs towards refusing.
 */
function heifSize(bytes: Uint8Array): ImageSize | undefined {
  let best: ImageSize | undefined;
  for (const { type, payload } of heifProperties(bytes)) {
    if (type !== 'ispe' || payload.length < 12) continue;
    // A full box: version and flags, then width and height.
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const width = view.getUint32(4);
    const height = view.getUint32(8);
    if (width > 0 && height > 0 && (!best || width * height > best.width * best.height))
      best = { width, height };
  }
  return best;
}
