/** How many bytes of an upload the sniffing reads: an `ftyp` box with its first dozen brands. */
export const HEAD_BYTES = 64;

/** ISO-BMFF brands of still images and image sequences (HEIF, HEIC, AVIF): not videos, whatever the box. */
const IMAGE_BRANDS = new Set([
  'heic',
  'heix',
  'hevc',
  'hevx',
  'heim',
  'heis',
  'mif1',
  'msf1',
  'avif',
  'avis',
]);
/** Brands of the MP4 and QuickTime videos ffmpeg reads. */
const VIDEO_BRANDS = new Set([
  'isom',
  'iso2',
  'iso4',
  'iso5',
  'iso6',
  'mp41',
  'mp42',
  'avc1',
  'qt  ',
  'M4V ',
  'M4VH',
  'M4VP',
  'f4v ',
  '3gp4',
  '3gp5',
  '3gp6',
  '3g2a',
  'dash',
  'MSNV',
]);

/**
 * The brands of an ISO-BMFF `ftyp` box at the start of `head` (major first, then the compatible
 * ones within the box and `head`), or undefined when `head` does not start with one.
 */
export function ftypBrands(head: Uint8Array): string[] | undefined {
  const text = (from: number) => String.fromCharCode(...head.subarray(from, from + 4));
  if (head.length < 12 || text(4) !== 'ftyp') return undefined;
  const size = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0);
  const end = Math.min(size, head.length);
  const brands = [text(8)];
  // Bytes 12-15 are the minor version, then compatible brands of four bytes each.
  for (let at = 16; at + 4 <= end; at += 4) brands.push(text(at));
  return brands;
}

/**
 * Magic bytes of the video containers: Matroska/WebM (EBML), MP4/MOV (`moov`, `mdat`, `wide`, or
 * an `ftyp` box whose brands are a video's). The first known brand decides, so a HEIF/HEIC or AVIF
 * image, also an `ftyp` box, is not taken for a video; a box of unknown brands is left to ffmpeg.
 */
export function sniffVideo(head: Uint8Array): boolean {
  const ascii = (from: number, text: string) => [...text].every((c, i) => head[from + i] === c.charCodeAt(0));
  const ebml = head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3;
  if (ebml || ascii(4, 'moov') || ascii(4, 'mdat') || ascii(4, 'wide')) return true;
  const brands = ftypBrands(head);
  if (!brands) return false;
  const known = brands.find((b) => IMAGE_BRANDS.has(b) || VIDEO_BRANDS.has(b));
  return known === undefined || VIDEO_BRANDS.has(known);
}
