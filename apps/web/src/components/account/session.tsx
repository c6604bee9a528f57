'use client';

import { useEffect, useState } from 'react';
import { accountCall, type SessionInfo } from '../../lib/account-api.ts';

/** `GET /v1/auth/session` once: the auth mode and who is signed in (undefined while loading). */
export function useSession(): SessionInfo | undefined {
  const [session, setSession] = useState<SessionInfo>();
  useEffect(() => {
    let live = true;
    accountCall<SessionInfo>('GET', '/v1/auth/session').then(
      (answer) => live && setSession(answer),
      // Without an answer the page behaves as signed out; the action the user tries reports the error.
      () => live && setSession({ mode: 'accounts', selfService: false, user: null }),
    );
    return () => {
      live = false;
    };
  }, []);
  return session;
}

/** A date as the page's locale writes it. */
export const formatDate = (iso: string, locale: string, withTime = false): string =>
  new Date(iso).toLocaleString(
    locale,
    withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'long' },
  );

export const inputClass =
  'mt-1 block w-full rounded border border-slate-400 bg-white px-3 py-2 text-slate-900 focus:border-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-600';
export const buttonClass =
  'inline-flex min-h-11 items-center justify-center rounded bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800 focus:outline-none focus:ring-2 focus:ring-indigo-600 focus:ring-offset-2 disabled:opacity-60';
export const secondaryButtonClass =
  'inline-flex min-h-11 items-center justify-center rounded border border-slate-400 bg-white px-3 py-2 text-sm font-medium text-slate-800 hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-indigo-600';

/** An error sentence announced to screen readers. */
export function Alert({ message }: { message: string | undefined }) {
  if (!message) return null;
  return (
    <p
      role="alert"
      data-testid="account-error"
      className="mt-4 rounded border border-red-300 bg-red-50 px-3 py-2 text-red-900"
    >
      {message}
    </p>
  );
}
