import { LOCALES, type Locale } from '@nestor/core';

export const isLocale = (value: string): value is Locale => (LOCALES as readonly string[]).includes(value);

/** The path of the same page in another locale: `/fr/x/` → `/de/x/`. */
export function localizedPath(pathname: string, locale: Locale): string {
  const rest = pathname.split('/').slice(2).join('/');
  return `/${locale}/${rest}`;
}
