import { createRequire } from 'node:module';
import { type DecodeLimits, NestorError, type RawImage } from '@nestor/core';
import type { LibHeif } from './libheif.ts';

/** libheif compiled to WebAssembly (LGPL-3.0, from npm): sharp's libheif has no HEVC decoder. */
let module: LibHeif | undefined;
function libheif(): LibHeif {
  module ??= createRequire(import.meta.url)('libheif-js/wasm-bundle') as LibHeif;
  return module;
}

/**
 * The primary image of an HEIC file, 8-bit RGB (RGBA where it has alpha), turned upright by its
 * `irot`/`imir` transforms as libheif applies them (HEIF readers ignore EXIF Orientation). The
 * size is checked against the limits before a pixel is decoded. Other top-level images (rare) are
 * not read, so nothing of them reaches the output.
 * @throws NestorError `E_TOO_MANY_PIXELS`, `E_IMAGE_TOO_SMALL`, `E_DECODE`
 */
export async function decodeHeic(bytes: Uint8Array, limits: DecodeLimits): Promise<RawImage> {
  const heif = libheif();
  const context = heif.heif_context_alloc();
  try {
    const read = heif.heif_context_read_from_memory(context, bytes);
    if (read.code !== heif.heif_error_code.heif_error_Ok) throw corrupt(read.message);
    const handle = heif.heif_js_context_get_primary_image_handle(context);
    if ('code' in handle) throw corrupt(handle.message);
    try {
      const width = heif.heif_image_handle_get_width(handle);
      const height = heif.heif_image_handle_get_height(handle);
      if (width * height > limits.maxPixels) {
        throw new NestorError(
          'E_TOO_MANY_PIXELS',
          `The image has ${width}x${height} pixels, more than the limit of ${limits.maxPixels}`,
        );
      }
      if (Math.min(width, height) < limits.minSide) {
        throw new NestorError(
          'E_IMAGE_TOO_SMALL',
          `The image is ${width}x${height}; both sides must be at least ${limits.minSide} pixels`,
        );
      }
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
