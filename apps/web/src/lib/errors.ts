import { ERROR_CODES, type Locale, NestorError, type OptionFacts, optionFacts } from '@nestor/core';
import { MESSAGES } from '../messages/index.ts';
import { errorCode } from './api.ts';
import { optionLabel, valueLabel } from './option-labels.ts';
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
  // A refused option the server names: which one, in the page's language, without its English text.
  const facts =
    code === 'E_INVALID_OPTION' && error instanceof NestorError ? optionFacts(error.details) : undefined;
  if (facts) return refusedOption(facts, locale);
  const template = Object.hasOwn(messages, code) && code !== 'unknown' ? messages[code]! : messages.unknown!;
  const sentence = format(template, locale, {
    code,
    limit: limits ? formatBytes(limits.maxBytes, locale) : '—',
  });
  // Without the option's facts (an older server, a failed job) its English text is more use than nothing.
  const specific =
    code === 'E_INVALID_OPTION' && error instanceof NestorError && error.message !== ERROR_CODES[code];
  return specific ? `${sentence} ${error.message}` : sentence;
}

/** A refused option as a sentence: the panel's label (or the API name), and the bound or choices when known. */
function refusedOption(facts: OptionFacts, locale: Locale): string {
  const messages = MESSAGES.errors[locale];
  const option = optionLabel(facts.option, locale);
  const { reason, minimum, maximum, allowed } = facts;
  if (reason === 'unknown') return format(messages.optionUnknown, locale, { option });
  if (reason === 'range' && minimum !== undefined) {
    return format(messages.optionAtLeast, locale, { option, minimum });
  }
  if (reason === 'range' && maximum !== undefined) {
    return format(messages.optionAtMost, locale, { option, maximum });
  }
  if (reason === 'choice' && allowed !== undefined && allowed.length > 0) {
    const labels = allowed.map((value) => valueLabel(facts.option, value, locale));
    const choices = new Intl.ListFormat(locale, { type: 'disjunction' }).format(labels);
    return format(messages.optionChoice, locale, { option, allowed: choices });
  }
  return format(messages.optionRefused, locale, { option });
}
