import { ERROR_CODES, LOCALES, NestorError } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { MESSAGES } from '../messages/index.ts';
import { errorMessage, formatBytes } from './errors.ts';

describe('error messages', () => {
  it.each(LOCALES)('every error code has a sentence in %s', (locale) => {
    const messages: Readonly<Record<string, string>> = MESSAGES.errors[locale];
    const missing = Object.keys(ERROR_CODES).filter((code) => !Object.hasOwn(messages, code));
    expect(missing).toEqual([]);
  });

  it('a code becomes the sentence of the locale, with the limit written the locale’s way', () => {
    const error = new NestorError('E_INPUT_TOO_LARGE');
    expect(errorMessage(error, 'en', { maxBytes: 52_428_800 })).toBe(
      'This file is too large. The limit is 52.4 MB.',
    );
    expect(errorMessage(error, 'fr', { maxBytes: 52_428_800 })).toBe(
      'Ce fichier est trop volumineux. La limite est de 52,4 MB.',
    );
  });

  it('a server code the SDK does not know is read from details, and unknown codes are named', () => {
    const fromServer = new NestorError('E_INTERNAL', 'x', {
      details: { status: 401, code: 'E_UNAUTHENTICATED' },
    });
    expect(errorMessage(fromServer, 'de')).toBe('Bitte melden Sie sich erneut an.');
    const unknown = new NestorError('E_INTERNAL', 'x', { details: { code: 'E_FROM_THE_FUTURE' } });
    expect(errorMessage(unknown, 'it')).toBe('Si è verificato un errore (E_FROM_THE_FUTURE).');
    expect(errorMessage(new Error('plain'), 'en')).toBe(
      'Something went wrong on our side. Please try again.',
    );
  });

  it('an animated image refused on device says so, with its frame count', () => {
    const error = new NestorError('E_UNSUPPORTED_MEDIA', 'x', { details: { animatedFrames: 12 } });
    expect(errorMessage(error, 'en')).toBe(
      'This image is animated (12 frames). “On this device” reads only its first frame, so anonymize it on the server.',
    );
    expect(errorMessage(new NestorError('E_UNSUPPORTED_MEDIA'), 'en')).toBe(
      'This is not an image Nestor can read. Use JPEG, PNG, WebP, AVIF, TIFF or GIF.',
    );
  });

  it('formatBytes', () => {
    expect(formatBytes(999, 'en')).toBe('999 B');
    expect(formatBytes(800_000, 'de')).toBe('800 kB');
  });
});
