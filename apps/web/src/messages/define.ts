import type { Locale } from '@nestor/core';

/** One area's messages: English first, and every other locale with exactly the same keys. */
export type AreaMessages<M extends Record<string, string>> = { readonly en: M } & {
  readonly [L in Exclude<Locale, 'en'>]: { readonly [K in keyof M]: string };
};

/**
 * Declares an area of messages. A key missing (or extra) in any locale is a type error, so no
 * string can stay untranslated. Placeholders are written `{name}` and filled by `t(key, { name })`.
 */
export function defineMessages<const M extends Record<string, string>>(
  messages: AreaMessages<M>,
): AreaMessages<M> {
  return messages;
}
