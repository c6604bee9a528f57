'use client';

import { useAppConfig } from '../../lib/app-config.tsx';
import { useLocale, useT } from '../../lib/i18n.tsx';
import { useSession } from './session.tsx';

/** Header links of accounts mode: sign in, or the account (and, for admins, users, audit and statistics). */
export function AccountMenu() {
  const t = useT('account');
  const locale = useLocale();
  const session = useSession();
  const tDashboard = useT('dashboard');
  const { features } = useAppConfig();
  if (!session || session.mode === 'local') return null;
  const link =
    'inline-block min-h-11 rounded px-2 py-3 text-sm font-medium text-indigo-800 hover:bg-slate-100';
  if (!session.user) {
    return (
      <a className={link} href={`/${locale}/login/`}>
        {t('signIn')}
      </a>
    );
  }
  return (
    <nav aria-label={t('accountLink')}>
      <ul className="flex flex-wrap gap-1">
        <li>
          <a className={link} href={`/${locale}/account/`}>
            {t('accountLink')} ({session.user.username})
          </a>
        </li>
        {session.user.role === 'admin' && (
          <>
            <li>
              <a className={link} href={`/${locale}/users/`}>
                {t('usersLink')}
              </a>
            </li>
            <li>
              <a className={link} href={`/${locale}/audit/`}>
                {t('auditLink')}
              </a>
            </li>
            {features.dashboard && (
              <li>
                <a className={link} href={`/${locale}/dashboard/`}>
                  {tDashboard('link')}
                </a>
              </li>
            )}
          </>
        )}
      </ul>
    </nav>
  );
}
