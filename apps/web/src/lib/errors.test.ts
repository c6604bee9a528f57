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
      'This is not an image Nestor can read. Use JPEG, PNG, WebP, AVIF, HEIC, TIFF or GIF.',
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

  /** A refused option as the SDK reports it: the server's English message, its facts, status and code. */
  const refused = (facts: Record<string, unknown>) =>
    new NestorError(
      'E_INVALID_OPTION',
      'Expected something for this option but received that of type string',
      {
        details: { ...facts, status: 400, code: 'E_INVALID_OPTION' },
      },
    );

  it.each([
    {
      facts: { option: 'minScore.face', reason: 'range', maximum: 1 },
      want: {
        en: 'The value of “Face threshold” must be at most 1.',
        fr: 'La valeur de « Seuil des visages » ne doit pas dépasser 1.',
        de: 'Der Wert für „Schwelle Gesichter“ darf höchstens 1 betragen.',
        it: 'Il valore di «Soglia volti» non può superare 1.',
      },
    },
    {
      facts: { option: 'strength', reason: 'range', minimum: 0.1 },
      want: {
        en: 'The value of “Strength” must be at least 0.1.',
        fr: 'La valeur de « Intensité » doit être d’au moins 0,1.',
        de: 'Der Wert für „Stärke“ muss mindestens 0,1 betragen.',
        it: 'Il valore di «Intensità» deve essere almeno 0,1.',
      },
    },
    {
      facts: { option: 'format', reason: 'choice', allowed: ['same', 'tiff'] },
      want: {
        en: 'The value of “Output format” is not accepted: choose Same as input or TIFF.',
        fr: 'La valeur de « Format de sortie » n’est pas acceptée : choisissez Identique à l’entrée ou TIFF.',
        de: 'Der Wert für „Ausgabeformat“ wird nicht akzeptiert: Wählen Sie Wie die Eingabe oder TIFF.',
        it: 'Il valore di «Formato di uscita» non è accettato: scegli Come l’originale o TIFF.',
      },
    },
    {
      facts: { option: 'method', reason: 'choice', allowed: ['gaussian', 'pixelate'] },
      want: {
        en: 'The value of “Method” is not accepted: choose Blur or Pixelate.',
        fr: 'La valeur de « Méthode » n’est pas acceptée : choisissez Flou ou Pixellisation.',
        de: 'Der Wert für „Methode“ wird nicht akzeptiert: Wählen Sie Weichzeichnen oder Verpixeln.',
        it: 'Il valore di «Metodo» non è accettato: scegli Sfocatura o Pixelatura.',
      },
    },
    {
      facts: { option: 'keepMetadata', reason: 'type' },
      want: {
        en: 'The value of “Keep metadata” is not accepted.',
        fr: 'La valeur de « Conserver les métadonnées » n’est pas acceptée.',
        de: 'Der Wert für „Metadaten behalten“ wird nicht akzeptiert.',
        it: 'Il valore di «Mantieni i metadati» non è accettato.',
      },
    },
    {
      facts: { option: 'feather', reason: 'type' },
      want: {
        en: 'The value of “feather” is not accepted.',
        fr: 'La valeur de « feather » n’est pas acceptée.',
        de: 'Der Wert für „feather“ wird nicht akzeptiert.',
        it: 'Il valore di «feather» non è accettato.',
      },
    },
    {
      facts: { option: 'blurr', reason: 'unknown' },
      want: {
        en: 'The server does not know the option “blurr”.',
        fr: 'Le serveur ne connaît pas l’option « blurr ».',
        de: 'Der Server kennt die Option „blurr“ nicht.',
        it: 'Il server non conosce l’opzione «blurr».',
      },
    },
  ])(
    'a refused $facts.option is named in the page’s language, without the server’s English',
    ({ facts, want }) => {
      for (const locale of LOCALES) {
        const sentence = errorMessage(refused(facts), locale);
        expect(sentence).toBe(want[locale]);
        expect(sentence).not.toContain('Expected');
      }
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
});
