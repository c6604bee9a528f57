'use client';

import type { Locale } from '@nestor/core';
import { usePathname } from 'next/navigation';
import type { ReactNode } from 'react';
import { AppConfigProvider, useAppConfig } from '../lib/app-config.tsx';
import { LocaleProvider, useT } from '../lib/i18n.tsx';
import { localizedPath } from '../lib/locales.ts';
import { translate } from '../lib/translate.ts';
import { AccountMenu } from './account/AccountMenu.tsx';

/** Header (name, language picker), main landmark and footer around every page. */
export function Shell({ locale, children }: { locale: Locale; children: ReactNode }) {
  return (
    <LocaleProvider locale={locale}>
      <AppConfigProvider>
        <Frame locale={locale}>{children}</Frame>
      </AppConfigProvider>
    </LocaleProvider>
  );
}

function Frame({ locale, children }: { locale: Locale; children: ReactNode }) {
  const t = useT('common');
  return (
    <>
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-indigo-800 focus:shadow"
      >
        {t('skipToContent')}
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-2 px-4 py-3">
          <a href={`/${locale}/`} className="flex items-baseline gap-2 rounded text-slate-900 no-underline">
            <span className="text-xl font-bold tracking-tight text-indigo-700">{t('appName')}</span>
            <span className="hidden text-sm text-slate-600 sm:inline">{t('tagline')}</span>
          </a>
          <div className="flex flex-wrap items-center gap-2">
            <MainNav locale={locale} />
            <AccountMenu />
            <LanguagePicker locale={locale} />
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1} className="mx-auto max-w-6xl px-4 py-6 focus:outline-none">
        {children}
      </main>
      <footer className="mx-auto max-w-6xl px-4 pb-8 text-sm text-slate-600">{t('footer')}</footer>
    </>
  );
}

/** The app's own pages: photos (the studio) and video. */
function MainNav({ locale }: { locale: Locale }) {
  const t = useT('common');
  const tVideo = useT('video');
  const pathname = usePathname() ?? `/${locale}/`;
  const links = [
    { href: `/${locale}/`, label: tVideo('navPhotos') },
    { href: `/${locale}/video/`, label: tVideo('navVideo') },
  ];
  return (
    <nav aria-label={t('mainNav')}>
      <ul className="flex gap-1">
        {links.map((link) => {
          const current = pathname === link.href || `${pathname}/` === link.href;
          return (
            <li key={link.href}>
              <a
                href={link.href}
                aria-current={current ? 'page' : undefined}
                className={`inline-block min-h-11 rounded px-2 py-3 text-sm font-medium ${
                  current
                    ? 'text-slate-900 underline decoration-2 underline-offset-4'
                    : 'text-indigo-800 hover:bg-slate-100'
                }`}
              >
                {link.label}
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

/** Links to the same page in each offered locale; the choice is remembered for `/`. */
function LanguagePicker({ locale }: { locale: Locale }) {
  const t = useT('common');
  const pathname = usePathname() ?? `/${locale}/`;
  const { locales } = useAppConfig();
  return (
    <nav aria-label={t('language')}>
      <ul className="flex gap-1">
        {locales.map((l) => (
          <li key={l}>
            <a
              href={localizedPath(pathname, l)}
              lang={l}
              hrefLang={l}
              aria-current={l === locale ? 'true' : undefined}
              onClick={() => {
                // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is missing in some browsers
                document.cookie = `nestor_locale=${l}; path=/; max-age=31536000; samesite=lax`;
              }}
              className={`inline-block min-w-11 rounded px-2 py-2 text-center text-sm font-medium uppercase ${
                l === locale ? 'bg-indigo-700 text-white' : 'text-slate-700 hover:bg-slate-100'
              }`}
            >
              {l}
              <span className="sr-only"> – {translate('common', 'languageName', l)}</span>
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
