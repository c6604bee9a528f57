import { LOCALES, type Locale } from '@nestor/core';
import type { Metadata, Viewport } from 'next';
import { notFound } from 'next/navigation';
import type { ReactNode } from 'react';
import { Shell } from '../../components/Shell.tsx';
import { isLocale } from '../../lib/locales.ts';
import { translate } from '../../lib/translate.ts';
import '../globals.css';

export const dynamicParams = false;

export function generateStaticParams(): { locale: Locale }[] {
  return LOCALES.map((locale) => ({ locale }));
}

type Props = { children: ReactNode; params: Promise<{ locale: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { locale } = await params;
  const lang = isLocale(locale) ? locale : 'en';
  return {
    title: `${translate('common', 'appName', lang)} — ${translate('common', 'tagline', lang)}`,
    description: translate('common', 'tagline', lang),
  };
}

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default async function LocaleLayout({ children, params }: Props) {
  const { locale } = await params;
  if (!isLocale(locale)) notFound();
  return (
    <html lang={locale}>
      <body className="min-h-screen bg-slate-50 font-sans text-slate-900 antialiased">
        <Shell locale={locale}>{children}</Shell>
      </body>
    </html>
  );
}
