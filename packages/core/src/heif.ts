import { checkImageSize, type DecodeLimits } from './engine.ts';
import { NestorError } from './errors.ts';
import type { RawImage } from './image.ts';

/**
 * The part of libheif-js's embind API that `decodeHeif` calls (libheif compiled to WebAssembly;
 * the package ships no types for it). Each engine loads the module its own way and passes it in,
 * so this file imports nothing. Its higher-level `HeifDecoder` is not used: it writes its errors
 * to the console.
 */
export interface LibHeif {
  readonly heif_error_code: { readonly heif_error_Ok: HeifEnum };
  readonly heif_colorspace: { readonly heif_colorspace_RGB: HeifEnum };
  readonly heif_chroma: {
    readonly heif_chroma_interleaved_RGB: HeifEnum;
    readonly heif_chroma_interleaved_RGBA: HeifEnum;
  };
  readonly heif_channel: { readonly heif_channel_interleaved: HeifEnum };
  heif_context_alloc(): HeifContext;
  heif_context_free(context: HeifContext): void;
  heif_context_read_from_memory(context: HeifContext, bytes: Uint8Array): HeifError;
  heif_js_context_get_primary_image_handle(context: HeifContext): HeifImageHandle | HeifError;
  heif_image_handle_get_width(handle: HeifImageHandle): number;
  heif_image_handle_get_height(handle: HeifImageHandle): number;
  heif_image_handle_has_alpha_channel(handle: HeifImageHandle): number;
  heif_image_handle_release(handle: HeifImageHandle): void;
  heif_js_decode_image2(
    handle: HeifImageHandle,
    colorspace: HeifEnum,
    chroma: HeifEnum,
  ): Promise<HeifDecoded | HeifError>;
  heif_image_release(image: HeifImage): void;
}

/** An embind enum value: compared by identity. */
export type HeifEnum = { readonly __brand: 'HeifEnum' };
export type HeifContext = { readonly __brand: 'HeifContext' };
export type HeifImageHandle = { readonly __brand: 'HeifImageHandle' };
export type HeifImage = { readonly __brand: 'HeifImage' };

export interface HeifError {
  readonly code: HeifEnum;
  readonly message: string;
}

export interface HeifDecoded {
  readonly image: HeifImage;
  /** Planes as views into the WebAssembly heap, valid until the image is released. */
  readonly channels: readonly {
    readonly id: HeifEnum;
    readonly width: number;
    readonly height: number;
    readonly stride: number;
    readonly data: Uint8Array;
  }[];
}

/**
 * The primary image of an HEIC file, 8-bit RGB (RGBA where it has alpha), turned upright by its
 * `irot`/`imir` transforms as libheif applies them (HEIF readers ignore EXIF Orientation). The
 * size is checked against the limits before a pixel is decoded. Other top-level images (rare) are
 * not read, so nothing of them reaches the output.
 * @throws NestorError `E_TOO_MANY_PIXELS`, `E_IMAGE_TOO_SMALL`, `E_DECODE`
 */
export async function decodeHeif(heif: LibHeif, bytes: Uint8Array, limits: DecodeLimits): Promise<RawImage> {
  const context = heif.heif_context_alloc();
  try {
    const read = heif.heif_context_read_from_memory(context, bytes);
    if (read.code !== heif.heif_error_code.heif_error_Ok) throw corrupt(read.message);
    const handle = heif.heif_js_context_get_primary_image_handle(context);
    if ('code' in handle) throw corrupt(handle.message);
    try {
      const width = heif.heif_image_handle_get_width(handle);
      const height = heif.heif_image_handle_get_height(handle);
      checkImageSize(width, height, limits);
      const channels = heif.heif_image_handle_has_alpha_channel(handle) ? 4 : 3;
      const decoded = await heif.heif_js_decode_image2(
        handle,
        heif.heif_colorspace.heif_colorspace_RGB,
        channels === 4
          ? heif.heif_chroma.heif_chroma_interleaved_RGBA
          : heif.heif_chroma.heif_chroma_interleaved_RGB,
      );
      if ('code' in decoded) throw corrupt(decoded.message);
      try {
        const plane = decoded.channels.find((c) => c.id === heif.heif_channel.heif_channel_interleaved);
        if (!plane) throw corrupt('no interleaved plane');
        return { width: plane.width, height: plane.height, channels, data: unpadded(plane, channels) };
      } finally {
        heif.heif_image_release(decoded.image);
      }
    } finally {
      heif.heif_image_handle_release(handle);
    }
  } finally {
    heif.heif_context_free(context);
  }
}

/** The plane's rows copied out of the WebAssembly heap (freed with the image), without row padding. */
function unpadded(
  plane: { width: number; height: number; stride: number; data: Uint8Array },
  channels: 3 | 4,
): Uint8Array {
  const row = plane.width * channels;
  if (plane.stride === row) return plane.data.slice(0, row * plane.height);
  const out = new Uint8Array(row * plane.height);
  for (let y = 0; y < plane.height; y++)
    out.set(plane.data.subarray(y * plane.stride, y * plane.stride + row), y * row);
  return out;
}

function corrupt(reason: string): NestorError {
  return new NestorError('E_DECODE', 'The image could not be decoded: it is corrupt or truncated', {
    cause: new Error(`libheif: ${reason}`),
  });
}

/** One item property of a HEIF file (a box of meta/iprp/ipco): its type and its payload. */
export interface HeifProperty {
  readonly type: string;
  /** The box's content after its 8- or 16-byte header. */
  readonly payload: Uint8Array;
}

/**
 * The item properties of a HEIF (AVIF or HEIC) file, read from its bytes alone: `ispe` sizes,
 * `colr` colour, `irot` turns. A truncated file gives what is there before the cut.
 */
export function heifProperties(bytes: Uint8Array): HeifProperty[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found: HeifProperty[] = [];
  const walk = (start: number, end: number, depth: number) => {
    for (let at = start; at + 8 <= end; ) {
      let length = view.getUint32(at);
      let header = 8;
      const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
      if (length === 1) {
        if (at + 16 > end) return;
        length = Number(view.getBigUint64(at + 8));
        header = 16;
      } else if (length === 0) length = end - at;
      if (length < header) return;
      const next = Math.min(end, at + length);
      // meta is a full box: 4 bytes of version and flags before its children.
      if (depth === 0 && type === 'meta') walk(at + header + 4, next, 1);
      else if (depth === 1 && type === 'iprp') walk(at + header, next, 2);
      else if (depth === 2 && type === 'ipco') walk(at + header, next, 3);
      else if (depth === 3) found.push({ type, payload: bytes.subarray(at + header, next) });
      at = next;
    }
  };
  walk(0, bytes.length, 0);
  return found;
}

/** Display P3's red, green and blue colorants as an ICC profile stores them (XYZ, D50-adapted). */
const P3_COLORANTS: Readonly<Record<string, readonly number[]>> = {
  rXYZ: [0.5151, 0.2412, -0.0011],
  gXYZ: [0.292, 0.6922, 0.0419],
  bXYZ: [0.1571, 0.0666, 0.7841],
};

/**
 * Whether a HEIF's colour is Display P3, as an iPhone writes it: a `colr` ICC profile whose
 * colorants are P3's (whatever it calls itself), or nclx colour primaries 12.
 * @example isDisplayP3(iphoneHeic) // true
 */
export function isDisplayP3(bytes: Uint8Array): boolean {
  return heifProperties(bytes).some(({ type, payload }) => {
    if (type !== 'colr' || payload.length < 4) return false;
    const kind = String.fromCharCode(...payload.subarray(0, 4));
    if (kind === 'nclx') return payload.length >= 6 && ((payload[4]! << 8) | payload[5]!) === 12;
    return (kind === 'prof' || kind === 'rICC') && hasP3Colorants(payload.subarray(4));
  });
}

/** ICC.1 §7.3: a tag table after the 128-byte header; each XYZ tag holds s15Fixed16 X, Y, Z. */
function hasP3Colorants(profile: Uint8Array): boolean {
  const view = new DataView(profile.buffer, profile.byteOffset, profile.byteLength);
  if (profile.length < 132) return false;
  const count = view.getUint32(128);
  let matched = 0;
  for (let k = 0; k < count && 144 + 12 * k <= profile.length; k++) {
    const at = 132 + 12 * k;
    const want = P3_COLORANTS[String.fromCharCode(...profile.subarray(at, at + 4))];
    const offset = view.getUint32(at + 4);
    if (!want || offset + 20 > profile.length) continue;
    const xyz = [0, 1, 2].map((i) => view.getInt32(offset + 8 + 4 * i) / 65536);
    if (xyz.every((v, i) => Math.abs(v - want[i]!) < 0.005)) matched++;
  }
  return matched === 3;
}
