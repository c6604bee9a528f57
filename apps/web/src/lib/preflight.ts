import { NestorError } from '@nestor/core';

/** HEIF brands of HEVC-coded photos (iPhone "High Efficiency"); AVIF shares the container, not the codec. */
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

/**
 * Whether the bytes open an HEIC photo: an ISO BMFF `ftyp` box naming an HEVC brand (major or
 * compatible) and no AVIF brand.
 * @example isHeic(iphonePhotoHead) // true
 */
export function isHeic(head: Uint8Array): boolean {
  const ascii = (from: number) => String.fromCharCode(...head.subarray(from, from + 4));
  if (head.length < 16 || ascii(4) !== 'ftyp') return false;
  const size = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0);
  const brands = [ascii(8)];
  for (let at = 16; at + 4 <= Math.min(size, head.length); at += 4) brands.push(ascii(at));
  return brands.some((b) => HEIC_BRANDS.has(b)) && !brands.some((b) => AVIF_BRANDS.has(b));
}

/** Bytes enough for an `ftyp` box and its compatible brands. */
const HEAD_BYTES = 64;

/**
 * What is refused before a photo is uploaded or read, as the server would refuse it, so a person
 * waits for no upload: a file over `limits.maxBytes` (`E_INPUT_TOO_LARGE`, the server's 413) and an
 * HEIC photo (`E_UNSUPPORTED_MEDIA` with `details.heic`, for a sentence on how to get a JPEG).
 * @example await preflight(file, appConfig.limits) // throws E_INPUT_TOO_LARGE for a 60 MB file
 */
export async function preflight(file: Blob, limits: { readonly maxBytes: number }): Promise<void> {
  if (file.size > limits.maxBytes) {
    throw new NestorError(
      'E_INPUT_TOO_LARGE',
      `The input has ${file.size} bytes, more than the limit of ${limits.maxBytes}`,
    );
  }
  const head = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
  if (isHeic(head)) {
    throw new NestorError('E_UNSUPPORTED_MEDIA', 'HEIC photos are not supported', {
      details: { heic: true },
    });
  }
}
