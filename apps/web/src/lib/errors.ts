import { ERROR_CODES, type Locale, NestorError } from '@nestor/core';
import { MESSAGES } from '../messages/index.ts';
import { errorCode } from './api.ts';
import { format } from './translate.ts';

/** Bytes as a person reads them: 50 MB, 800 kB. */
export function formatBytes(bytes: number, locale: Locale): string {
  const units = MESSAGES.errors[locale].bytesUnits.split(' ');
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toLocaleString(locale, { maximumFractionDigits: unit === 0 ? 0 : 1 })} ${units[unit]}`;
}

/** A thrown error (API, SDK, on-device engine) as a sentence in the page's language. */
export function errorMessage(error: unknown, locale: Locale, limits?: { maxBytes: number }): string {
  const code = errorCode(error);
  const messages: Readonly<Record<string, string>> = MESSAGES.errors[locale];
  // An animated image refused on device (one frame only) or in a format that cannot animate.
  const frames = error instanceof NestorError ? error.details?.animatedFrames : undefined;
  if (typeof frames === 'number') {
    const animated = code === 'E_INVALID_OPTION' ? messages.animatedFormat! : messages.animatedOnDevice!;
    return format(animated, locale, { frames });
  }
  // The on-device engine names what this browser lacks (WebAssembly, Web Crypto).
  const missing = error instanceof NestorError ? error.details?.missing : undefined;
  if (Array.isArray(missing))
    return format(messages.deviceUnsupported!, locale, { missing: missing.join(', ') });
  if (code === 'E_UNSUPPORTED_MEDIA' && error instanceof NestorError && error.details?.heic === true) {
    return messages.heic!;
  }
  const template = Object.hasOwn(messages, code) && code !== 'unknown' ? messages[code]! : messages.unknown!;
  const sentence = format(template, locale, {
    code,
    limit: limits ? formatBytes(limits.maxBytes, locale) : '—',
  });
  // The server names the option and what it accepts (in English): more use than the sentence alone.
  const specific =
    code === 'E_INVALID_OPTION' && error instanceof NestorError && error.message !== ERROR_CODES[code];
  return specific ? `${sentence} ${error.message}` : sentence;
}
