'use client';

import { useId, useState } from 'react';
import { accountCall, type CredentialsLink, credentialsPage } from '../../lib/account-api.ts';
import { errorCode } from '../../lib/api.ts';
import { errorMessage } from '../../lib/errors.ts';
import { useLocale, useT } from '../../lib/i18n.tsx';
import { Alert, buttonClass, inputClass, useSession } from './session.tsx';

/** Where to go after signing in: a path of this site only (no open redirect). */
function nextPath(locale: string): string {
  const next = new URLSearchParams(window.location.search).get('next');
  // `//host` and `/\host` would leave the site.
  return next?.startsWith('/') && !/^\/[/\\]/.test(next) ? next : `/${locale}/`;
}

/** Username + password + TOTP code; expired credentials go straight into renewal. */
export function LoginForm() {
  const t = useT('account');
  const locale = useLocale();
  const session = useSession();
  const id = useId();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<string>();

  if (session?.mode === 'local') {
    return (
      <p className="mt-4">
        {t('localMode')}{' '}
        <a className="text-indigo-800 underline" href={`/${locale}/`}>
          Nestor
        </a>
      </p>
    );
  }

  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await accountCall('POST', '/v1/auth/login', {
        username: username.trim().toLowerCase(),
        password,
        code: code.trim(),
      });
      window.location.assign(nextPath(locale));
    } catch (caught) {
      const failure = errorCode(caught);
      if (failure === 'E_CREDENTIALS_EXPIRED') {
        setNotice(t('expiredRenewing'));
        try {
          const link = await accountCall<CredentialsLink>('POST', '/v1/auth/renew');
          window.location.assign(credentialsPage(locale, link));
        } catch (renewError) {
          setError(errorMessage(renewError, locale));
        }
      } else if (failure === 'E_LOCKED') {
        const seconds = Number(
          (caught as { details?: { retryAfterSeconds?: unknown } }).details?.retryAfterSeconds ?? 60,
        );
        setError(t('lockedFor', { minutes: Math.max(1, Math.ceil(seconds / 60)) }));
      } else if (failure === 'E_UNAUTHENTICATED') {
        setError(t('wrongCredentials'));
      } else {
        setError(errorMessage(caught, locale));
      }
      setCode('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="mt-6 max-w-md space-y-4"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <div>
        <label htmlFor={`${id}-user`} className="font-medium">
          {t('username')}
        </label>
        <input
          id={`${id}-user`}
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          className={inputClass}
        />
      </div>
      <div>
        <label htmlFor={`${id}-password`} className="font-medium">
          {t('password')}
        </label>
        <input
          id={`${id}-password`}
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          className={inputClass}
        />
      </div>
      <div>
        <label htmlFor={`${id}-code`} className="font-medium">
          {t('code')}
        </label>
        <input
          id={`${id}-code`}
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9]{6}"
          maxLength={6}
          required
          aria-describedby={`${id}-code-hint`}
          value={code}
          onChange={(e) => setCode(e.target.value)}
          className={`${inputClass} max-w-40 font-mono tracking-widest`}
        />
        <p id={`${id}-code-hint`} className="mt-1 text-sm text-slate-600">
          {t('codeHint')}
        </p>
      </div>
      <button type="submit" disabled={busy} className={buttonClass}>
        {busy ? t('signingIn') : t('signIn')}
      </button>
      {notice && (
        <p role="status" className="rounded border border-indigo-200 bg-indigo-50 px-3 py-2 text-indigo-900">
          {notice}
        </p>
      )}
      <Alert message={error} />
      {session?.selfService && (
        <p className="text-sm">
          {t('noAccount')}{' '}
          <a className="text-indigo-800 underline" href={`/${locale}/register/`}>
            {t('registerLink')}
          </a>
        </p>
      )}
    </form>
  );
}
