import { NestorError } from '@nestor/core';

/**
 * What is refused before a photo is uploaded or read, as the server would refuse it, so a person
 * waits for no upload: a file over `limits.maxBytes` (`E_INPUT_TOO_LARGE`, the server's 413).
 * Everything else (format, pixels) is for the engine to judge: the server reads what a browser
 * cannot (HEIC, TIFF).
 * @example preflight(file, appConfig.limits) // throws E_INPUT_TOO_LARGE for a 60 MB file
 */
export function preflight(file: Blob, limits: { readonly maxBytes: number }): void {
  if (file.size > limits.maxBytes) {
    throw new NestorError(
      'E_INPUT_TOO_LARGE',
      `The input has ${file.size} bytes, more than the limit of ${limits.maxBytes}`,
    );
  }
}
