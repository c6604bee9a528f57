import type { Locale } from '@nestor/core';
import { type Area, MESSAGES, type MessageKey } from '../messages/index.ts';

export type Params = Readonly<Record<string, string | number>>;

/** Fills `{name}` placeholders; numbers are written the locale's way. */
export function format(template: string, locale: Locale, params: Params = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === 'number' ? value.toLocaleString(locale) : value;
  });
}

/** The message of `key` in `area`, in `locale` (usable on the server and in the browser). */
export function translate<A extends Area>(
  area: A,
  key: MessageKey<A>,
  locale: Locale,
  params?: Params,
): string {
  const messages = MESSAGES[area][locale] as Readonly<Record<MessageKey<A>, string>>;
  return format(messages[key], locale, params);
}
