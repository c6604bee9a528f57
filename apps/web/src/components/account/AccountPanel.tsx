'use client';

import { useCallback, useEffect, useId, useState } from 'react';
import { type ApiKey, accountCall } from '../../lib/account-api.ts';
import { redirectIfUnauthenticated } from '../../lib/api.ts';
import { useAppConfig } from '../../lib/app-config.tsx';
import { errorMessage } from '../../lib/errors.ts';
import { useLocale, useT } from '../../lib/i18n.tsx';
import { Alert, buttonClass, formatDate, inputClass, secondaryButtonClass, useSession } from './session.tsx';

const SCOPES = ['detect', 'anonymize', 'admin'] as const;
type Scope = (typeof SCOPES)[number];

/** Who is signed in, sign-out, and the API keys (list, create — shown once — and revoke). */
export function AccountPanel() {
  const t = useT('account');
  const locale = useLocale();
  const session = useSession();
  const { features } = useAppConfig();
  const [error, setError] = useState<string>();

  useEffect(() => {
    if (session?.mode === 'accounts' && !session.user) {
      window.location.assign(`/${locale}/login/?next=${encodeURIComponent(window.location.pathname)}`);
    }
  }, [session, locale]);

  if (!session) return <p role="status">{t('credentialsLoading')}</p>;
  if (session.mode === 'local') return <p className="mt-4">{t('localMode')}</p>;
  if (!session.user) return null;
  const { user } = session;
  return (
    <div className="mt-4 space-y-8">
      <section aria-label={t('accountTitle')} className="space-y-2">
        <p>
          {t('signedInAs', {
            name: user.username,
            role: t(user.role === 'admin' ? 'role_admin' : 'role_user'),
          })}
        </p>
        {user.credentialsExpireAt && (
          <p>{t('credentialsExpire', { date: formatDate(user.credentialsExpireAt, locale) })}</p>
        )}
        <button
          type="button"
          className={secondaryButtonClass}
          onClick={() => {
            accountCall('POST', '/v1/auth/logout').then(
              () => window.location.assign(`/${locale}/login/`),
              (caught: unknown) => setError(errorMessage(caught, locale)),
            );
          }}
        >
          {t('signOut')}
        </button>
        <Alert message={error} />
      </section>
      {features.technicalApi && <ApiKeys isAdmin={user.role === 'admin'} />}
    </div>
  );
}

function ApiKeys({ isAdmin }: { isAdmin: boolean }) {
  const t = useT('account');
  const locale = useLocale();
  const id = useId();
  const [keys, setKeys] = useState<readonly ApiKey[]>();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<readonly Scope[]>(['detect', 'anonymize']);
  const [created, setCreated] = useState<string>();
  const [error, setError] = useState<string>();

  const fail = useCallback(
    (caught: unknown) => {
      if (!redirectIfUnauthenticated(caught, locale)) setError(errorMessage(caught, locale));
    },
    [locale],
  );
  const load = useCallback(() => {
    accountCall<{ keys: ApiKey[] }>('GET', '/v1/keys').then((answer) => setKeys(answer.keys), fail);
  }, [fail]);
  useEffect(load, [load]);

  return (
    <section aria-labelledby={`${id}-title`} className="space-y-4">
      <h2 id={`${id}-title`} className="text-xl font-semibold">
        {t('keysTitle')}
      </h2>
      <p>{t('keysIntro')}</p>
      <form
        className="flex flex-wrap items-end gap-4 rounded-lg border border-slate-300 bg-white p-4"
        onSubmit={(event) => {
          event.preventDefault();
          setError(undefined);
          accountCall<{ key: string }>('POST', '/v1/keys', { name, scopes }).then((answer) => {
            setCreated(answer.key);
            setName('');
            load();
          }, fail);
        }}
      >
        <div>
          <label htmlFor={`${id}-name`} className="font-medium">
            {t('keyName')}
          </label>
          <input
            id={`${id}-name`}
            required
            maxLength={80}
            value={name}
            onChange={(e) => setName(e.target.value)}
            className={inputClass}
          />
        </div>
        <fieldset>
          <legend className="font-medium">{t('scopes')}</legend>
          <div className="mt-1 flex flex-wrap gap-4">
            {SCOPES.filter((s) => s !== 'admin' || isAdmin).map((scope) => (
              <label key={scope} className="flex min-h-11 items-center gap-2">
                <input
                  type="checkbox"
                  className="h-5 w-5"
                  checked={scopes.includes(scope)}
                  onChange={(e) =>
                    setScopes(e.target.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope))
                  }
                />
                {t(`scope_${scope}`)}
              </label>
            ))}
          </div>
        </fieldset>
        <button type="submit" className={buttonClass} disabled={scopes.length === 0 || name.trim() === ''}>
          {t('createKey')}
        </button>
      </form>
      {created && (
        <div role="status" className="rounded border border-amber-300 bg-amber-50 p-3">
          <p className="font-medium text-amber-900">{t('newKey')}</p>
          <code className="mt-1 block break-all font-mono" data-testid="new-key">
            {created}
          </code>
        </div>
      )}
      <Alert message={error} />
      {keys && keys.length === 0 && <p>{t('noKeys')}</p>}
      {keys && keys.length > 0 && (
        <div className="overflow-x-auto">
          <table className="w-full border-collapse bg-white text-left text-sm">
            <thead>
              <tr className="border-b border-slate-300">
                <th scope="col" className="p-2">
                  {t('keyName')}
                </th>
                <th scope="col" className="p-2">
                  {t('keyPrefix')}
                </th>
                <th scope="col" className="p-2">
                  {t('scopes')}
                </th>
                <th scope="col" className="p-2">
                  {t('lastUsed')}
                </th>
                <th scope="col" className="p-2">
                  {t('status')}
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr key={key.id} className="border-b border-slate-200">
                  <td className="p-2">{key.name}</td>
                  <td className="p-2 font-mono">{key.prefix}…</td>
                  <td className="p-2">{key.scopes.map((s) => t(`scope_${s}`)).join(', ')}</td>
                  <td className="p-2">
                    {key.lastUsedAt ? formatDate(key.lastUsedAt, locale, true) : t('never')}
                  </td>
                  <td className="p-2">
                    {key.revokedAt ? (
                      t('revoked')
                    ) : (
                      <button
                        type="button"
                        className={secondaryButtonClass}
                        aria-label={t('revokeKey', { name: key.name })}
                        onClick={() => accountCall('DELETE', `/v1/keys/${key.id}`).then(load, fail)}
                      >
                        {t('revoke')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
