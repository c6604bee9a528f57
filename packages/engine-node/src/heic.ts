import { createRequire } from 'node:module';
import { type DecodeLimits, decodeHeif, type LibHeif, type RawImage } from '@nestor/core';

/** libheif compiled to WebAssembly (LGPL-3.0, from npm): sharp's libheif has no HEVC decoder. */
let module: LibHeif | undefined;

/**
 * An HEIC photo's primary image, upright (see `decodeHeif`); the module loads on the first HEIC.
 * @throws NestorError `E_TOO_MANY_PIXELS`, `E_IMAGE_TOO_SMALL`, `E_DECODE`
 */
export function decodeHeic(bytes: Uint8Array, limits: DecodeLimits): Promise<RawImage> {
  module ??= createRequire(import.meta.url)('libheif-js/wasm-bundle') as LibHeif;
  return decodeHeif(module, bytes, limits);
}
