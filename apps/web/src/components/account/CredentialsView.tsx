'use client';

import { useEffect, useRef, useState } from 'react';
import { accountCall, type Credentials } from '../../lib/account-api.ts';
import { errorCode } from '../../lib/api.ts';
import { errorMessage } from '../../lib/errors.ts';
import { useLocale, useT } from '../../lib/i18n.tsx';
import { Alert, buttonClass, formatDate } from './session.tsx';

type State =
  | { readonly kind: 'loading' }
  | { readonly kind: 'shown'; readonly credentials: Credentials }
  | { readonly kind: 'failed'; readonly message: string };

/**
 * The one-time credentials page: the token is in the address's fragment (never sent to a server,
 * never logged); it is read, removed from the address, and spent on one request.
 */
export function CredentialsView() {
  const t = useT('account');
  const locale = useLocale();
  const [state, setState] = useState<State>({ kind: 'loading' });
  const claimed = useRef(false);

  useEffect(() => {
    if (claimed.current) return;
    claimed.current = true;
    const token = window.location.hash.slice(1);
    window.history.replaceState(null, '', window.location.pathname);
    if (!token) {
      setState({ kind: 'failed', message: t('credentialsNoToken') });
      return;
    }
    accountCall<Credentials>('POST', '/v1/auth/credentials', { token }).then(
      (credentials) => setState({ kind: 'shown', credentials }),
      (error: unknown) =>
        setState({
          kind: 'failed',
          message: errorCode(error) === 'E_NOT_FOUND' ? t('credentialsGone') : errorMessage(error, locale),
        }),
    );
  }, [t, locale]);

  if (state.kind === 'loading') return <p role="status">{t('credentialsLoading')}</p>;
  if (state.kind === 'failed') return <Alert message={state.message} />;
  const c = state.credentials;
  return (
    <div className="mt-4 space-y-6">
      <p className="rounded border border-amber-300 bg-amber-50 px-3 py-2 font-medium text-amber-900">
        {t('credentialsOnce')}
      </p>
      <dl className="grid gap-1">
        <dt className="font-medium">{t('username')}</dt>
        <dd className="font-mono" data-testid="username">
          {c.username}
        </dd>
      </dl>
      <section aria-labelledby="totp-title" className="rounded-lg border border-slate-300 bg-white p-4">
        <h2 id="totp-title" className="text-lg font-semibold">
          {t('code')}
        </h2>
        <p className="mt-1">{t('scanTotp')}</p>
        {/* biome-ignore lint/performance/noImgElement: a data URL made by the server; nothing to optimise */}
        <img
          src={c.qr.otpauth}
          alt={t('totpQrAlt')}
          width={240}
          height={240}
          className="mt-3"
          data-testid="totp-qr"
        />
        <p className="mt-3">{t('totpManual')}</p>
        <code
          className="mt-1 block break-all rounded bg-slate-100 px-2 py-1 font-mono"
          data-testid="totp-secret"
        >
          {c.totpSecret}
        </code>
      </section>
      <section aria-labelledby="password-title" className="rounded-lg border border-slate-300 bg-white p-4">
        <h2 id="password-title" className="text-lg font-semibold">
          {t('password')}
        </h2>
        <p className="mt-1">{t('passwordIntro')}</p>
        <code
          className="mt-1 block break-all rounded bg-slate-100 px-2 py-1 font-mono text-lg"
          data-testid="password"
        >
          {c.password}
        </code>
        {/* biome-ignore lint/performance/noImgElement: a data URL made by the server; nothing to optimise */}
        <img
          src={c.qr.password}
          alt={t('passwordQrAlt')}
          width={200}
          height={200}
          className="mt-3"
          data-testid="password-qr"
        />
      </section>
      <p>{t('expiresOn', { date: formatDate(c.credentialsExpireAt, locale) })}</p>
      <a href={`/${locale}/login/`} className={buttonClass}>
        {t('continueToSignIn')}
      </a>
    </div>
  );
}
