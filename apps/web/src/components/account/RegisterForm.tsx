'use client';

import { useId, useState } from 'react';
import { accountCall, type CredentialsLink, credentialsPage } from '../../lib/account-api.ts';
import { errorMessage } from '../../lib/errors.ts';
import { useLocale, useT } from '../../lib/i18n.tsx';
import { Alert, buttonClass, inputClass } from './session.tsx';

/** Self-service sign-up: a username in, the one-time credentials page out. */
export function RegisterForm() {
  const t = useT('account');
  const locale = useLocale();
  const id = useId();
  const [username, setUsername] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  return (
    <form
      className="mt-6 max-w-md space-y-4"
      onSubmit={(event) => {
        event.preventDefault();
        setBusy(true);
        setError(undefined);
        accountCall<CredentialsLink>('POST', '/v1/auth/register', { username: username.trim().toLowerCase() })
          .then((link) => window.location.assign(credentialsPage(locale, link)))
          .catch((caught: unknown) => setError(errorMessage(caught, locale)))
          .finally(() => setBusy(false));
      }}
    >
      <p>{t('registerIntro')}</p>
      <div>
        <label htmlFor={`${id}-user`} className="font-medium">
          {t('username')}
        </label>
        <input
          id={`${id}-user`}
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          pattern="[a-z0-9][a-z0-9._\-]{1,62}"
          aria-describedby={`${id}-hint`}
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          className={inputClass}
        />
        <p id={`${id}-hint`} className="mt-1 text-sm text-slate-600">
          {t('usernameHint')}
        </p>
      </div>
      <button type="submit" disabled={busy} className={buttonClass}>
        {t('register')}
      </button>
      <Alert message={error} />
    </form>
  );
}
