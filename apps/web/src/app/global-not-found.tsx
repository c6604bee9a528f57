import { LOCALES } from '@nestor/core';
import type { Metadata } from 'next';
import { translate } from '../lib/translate.ts';
import './globals.css';

export const metadata: Metadata = { title: 'Nestor — 404' };

/** The one 404 page of the static export: it cannot know the visitor's language, so it speaks all four. */
export default function GlobalNotFound() {
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 antialiased">
        <main className="mx-auto max-w-xl space-y-6 px-4 py-12">
          {LOCALES.map((locale, i) => (
            <section key={locale} lang={locale} aria-labelledby={`nf-${locale}`}>
              {i === 0 ? (
                <h1 id={`nf-${locale}`} className="text-2xl font-bold">
                  {translate('common', 'notFoundTitle', locale)}
                </h1>
              ) : (
                <h2 id={`nf-${locale}`} className="text-xl font-semibold">
                  {translate('common', 'notFoundTitle', locale)}
                </h2>
              )}
              <p className="mt-1 text-slate-700">{translate('common', 'notFoundText', locale)}</p>
              <a
                href={`/${locale}/`}
                className="mt-1 inline-block py-2 font-medium text-indigo-800 underline"
              >
                {translate('common', 'home', locale)}
              </a>
            </section>
          ))}
        </main>
      </body>
    </html>
  );
}
