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
      'Ce fichier est trop volumineux. La limite est de 52,4 Mo.',
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

  it.each([
    ['en', 'This image is animated (12 frames): choose Same as input, GIF or WebP as the output format.'],
    [
      'fr',
      'Cette image est animée (12 images) : choisissez « Identique à l’entrée », GIF ou WebP comme format de sortie.',
    ],
    [
      'de',
      'Dieses Bild ist animiert (12 Einzelbilder): Wählen Sie „Wie die Eingabe“, GIF oder WebP als Ausgabeformat.',
    ],
    [
      'it',
      'Questa immagine è animata (12 fotogrammi): scegli «Come l’originale», GIF o WebP come formato di uscita.',
    ],
  ] as const)(
    'an animated image with a format that cannot animate says which to choose (%s)',
    (locale, want) => {
      const error = new NestorError('E_INVALID_OPTION', 'x', { details: { animatedFrames: 12 } });
      expect(errorMessage(error, locale)).toBe(want);
    },
  );

  it('any other refused option adds what the server said of it to the sentence', () => {
    const server = new NestorError(
      'E_INVALID_OPTION',
      'Expected one of "same", "tiff" for a multi-page TIFF for format but received "png" of type string',
    );
    expect(errorMessage(server, 'en')).toBe(
      'One of the options has a value the server does not accept. Expected one of "same", "tiff" for a multi-page TIFF for format but received "png" of type string',
    );
    expect(errorMessage(new NestorError('E_INVALID_OPTION'), 'en')).toBe(
      'One of the options has a value the server does not accept.',
    );
  });

  it('formatBytes', () => {
    expect(formatBytes(999, 'en')).toBe('999 B');
    expect(formatBytes(800_000, 'de')).toBe('800 kB');
    expect(formatBytes(800_000, 'fr')).toBe('800 ko');
    expect(formatBytes(999, 'fr')).toBe('999 o');
  });

  it('a browser without what the on-device engine needs is told what it lacks, not that models failed', () => {
    const error = new NestorError('E_MODEL_LOAD', 'x', {
      details: { missing: ['WebAssembly', 'Web Crypto'] },
    });
    expect(errorMessage(error, 'fr')).toBe(
      'Ce navigateur ne peut pas utiliser « Sur cet appareil » : il lui manque WebAssembly, Web Crypto (Web Crypto exige une page servie en HTTPS). Utilisez le serveur, ou un navigateur récent.',
    );
    expect(errorMessage(new NestorError('E_MODEL_LOAD'), 'en')).toBe(
      'The detection models could not be loaded.',
    );
  });

  it.each(LOCALES)('an HEIC photo says how to get a JPEG in %s, without the code', (locale) => {
    const error = new NestorError('E_UNSUPPORTED_MEDIA', 'x', { details: { heic: true } });
    const sentence = errorMessage(error, locale);
    expect(sentence).toContain('HEIC');
    expect(sentence).toContain('JPEG');
    expect(sentence).not.toContain('E_');
    expect(sentence).not.toBe(errorMessage(new NestorError('E_UNSUPPORTED_MEDIA'), locale));
  });
});
