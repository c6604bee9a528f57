'use client';

import { useT } from '../../lib/i18n.tsx';

/** The dashboard page's one h1, in its language. */
export function DashboardHeading() {
  const t = useT('dashboard');
  return <h1 className="text-2xl font-bold">{t('title')}</h1>;
}
