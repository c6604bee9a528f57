'use client';

import type { Locale } from '@nestor/core';
import { createContext, type ReactNode, useCallback, useContext } from 'react';
import type { Area, MessageKey } from '../messages/index.ts';
import { type Params, translate } from './translate.ts';

const LocaleContext = createContext<Locale>('en');

export function LocaleProvider({ locale, children }: { locale: Locale; children: ReactNode }) {
  return <LocaleContext.Provider value={locale}>{children}</LocaleContext.Provider>;
}

export const useLocale = (): Locale => useContext(LocaleContext);

/** `t(key, params)` for one area of messages in the page's locale. */
export function useT<A extends Area>(area: A): (key: MessageKey<A>, params?: Params) => string {
  const locale = useLocale();
  return useCallback(
    (key: MessageKey<A>, params?: Params) => translate(area, key, locale, params),
    [area, locale],
  );
}
