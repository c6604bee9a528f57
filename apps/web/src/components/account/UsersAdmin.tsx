'use client';

import { useCallback, useEffect, useId, useState } from 'react';
import { accountCall, type CredentialsLink, credentialsUrl, type User } from '../../lib/account-api.ts';
import { errorCode, redirectIfUnauthenticated } from '../../lib/api.ts';
import { errorMessage } from '../../lib/errors.ts';
import { useLocale, useT } from '../../lib/i18n.tsx';
import { Alert, buttonClass, formatDate, inputClass, secondaryButtonClass } from './session.tsx';

/** Admins: every account; create one (its one-time link to hand over), change, reset, delete. */
export function UsersAdmin() {
  const t = useT('account');
  const locale = useLocale();
  const id = useId();
  const [users, setUsers] = useState<readonly User[]>();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<'user' | 'admin'>('user');
  const [handOver, setHandOver] = useState<{ name: string; url: string }>();
  const [error, setError] = useState<string>();

  const fail = useCallback(
    (caught: unknown) => {
      if (redirectIfUnauthenticated(caught, locale)) return;
      setError(errorCode(caught) === 'E_FORBIDDEN' ? t('adminOnly') : errorMessage(caught, locale));
    },
    [locale, t],
  );
  const load = useCallback(() => {
    accountCall<{ users: User[] }>('GET', '/v1/users').then((answer) => setUsers(answer.users), fail);
  }, [fail]);
  useEffect(load, [load]);

  const act = (work: Promise<unknown>) => {
    setError(undefined);
    work.then(load, fail);
  };

  return (
    <div className="mt-4 space-y-6">
      <form
        aria-labelledby={`${id}-new`}
        className="flex flex-wrap items-end gap-4 rounded-lg border border-slate-300 bg-white p-4"
        onSubmit={(event) => {
          event.preventDefault();
          setError(undefined);
          const name = username.trim().toLowerCase();
          accountCall<{ link: CredentialsLink }>('POST', '/v1/users', { username: name, role }).then(
            (answer) => {
              setHandOver({ name, url: credentialsUrl(answer.link) });
              setUsername('');
              load();
            },
            fail,
          );
        }}
      >
        <h2 id={`${id}-new`} className="w-full text-lg font-semibold">
          {t('newUser')}
        </h2>
        <div>
          <label htmlFor={`${id}-user`} className="font-medium">
            {t('username')}
          </label>
          <input
            id={`${id}-user`}
            required
            autoCapitalize="none"
            spellCheck={false}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            className={inputClass}
          />
        </div>
        <div>
          <label htmlFor={`${id}-role`} className="font-medium">
            {t('role')}
          </label>
          <select
            id={`${id}-role`}
            value={role}
            onChange={(e) => setRole(e.target.value === 'admin' ? 'admin' : 'user')}
            className={inputClass}
          >
            <option value="user">{t('role_user')}</option>
            <option value="admin">{t('role_admin')}</option>
          </select>
        </div>
        <button type="submit" className={buttonClass}>
          {t('createUser')}
        </button>
      </form>
      {handOver && (
        <div role="status" className="rounded border border-amber-300 bg-amber-50 p-3">
          <p className="font-medium text-amber-900">{t('handOver', { name: handOver.name })}</p>
          <code className="mt-1 block break-all font-mono" data-testid="handover-link">
            {handOver.url}
          </code>
        </div>
      )}
      <Alert message={error} />
      {users && (
        <div className="overflow-x-auto">
          <table className="w-full border-collapse bg-white text-left text-sm">
            <thead>
              <tr className="border-b border-slate-300">
                <th scope="col" className="p-2">
                  {t('username')}
                </th>
                <th scope="col" className="p-2">
                  {t('role')}
                </th>
                <th scope="col" className="p-2">
                  {t('status')}
                </th>
                <th scope="col" className="p-2">
                  {t('expiresColumn')}
                </th>
                <th scope="col" className="p-2">
                  <span className="sr-only">{t('actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id} className="border-b border-slate-200 align-top">
                  <td className="p-2 font-mono">{u.username}</td>
                  <td className="p-2">{t(u.role === 'admin' ? 'role_admin' : 'role_user')}</td>
                  <td className="p-2">
                    {[u.disabled ? t('disabled') : t('active'), u.lockedUntil ? t('locked') : '']
                      .filter(Boolean)
                      .join(', ')}
                  </td>
                  <td className="p-2">{formatDate(u.credentialsExpireAt, locale)}</td>
                  <td className="p-2">
                    <fieldset className="flex flex-wrap gap-2">
                      <legend className="sr-only">{t('actionsFor', { name: u.username })}</legend>
                      <button
                        type="button"
                        className={secondaryButtonClass}
                        onClick={() =>
                          act(accountCall('PATCH', `/v1/users/${u.id}`, { disabled: !u.disabled }))
                        }
                      >
                        {u.disabled ? t('enable') : t('disable')}
                      </button>
                      <button
                        type="button"
                        className={secondaryButtonClass}
                        onClick={() =>
                          act(
                            accountCall('PATCH', `/v1/users/${u.id}`, {
                              role: u.role === 'admin' ? 'user' : 'admin',
                            }),
                          )
                        }
                      >
                        {u.role === 'admin' ? t('makeUser') : t('makeAdmin')}
                      </button>
                      <button
                        type="button"
                        className={secondaryButtonClass}
                        onClick={() => {
                          setError(undefined);
                          accountCall<CredentialsLink>('POST', `/v1/users/${u.id}/credentials`).then(
                            (link) => setHandOver({ name: u.username, url: credentialsUrl(link) }),
                            fail,
                          );
                        }}
                      >
                        {t('resetCredentials')}
                      </button>
                      <button
                        type="button"
                        className={secondaryButtonClass}
                        onClick={() => {
                          if (window.confirm(t('confirmDelete', { name: u.username })))
                            act(accountCall('DELETE', `/v1/users/${u.id}`));
                        }}
                      >
                        {t('deleteUser')}
                      </button>
                    </fieldset>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
