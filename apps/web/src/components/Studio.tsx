'use client';

import { useT } from '../lib/i18n.tsx';

export function Studio() {
  const t = useT('studio');
  return <h1 className="text-2xl font-bold">{t('title')}</h1>;
}
