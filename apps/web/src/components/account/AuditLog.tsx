'use client';

import { useCallback, useEffect, useId, useState } from 'react';
import { type AuditEntry, accountCall } from '../../lib/account-api.ts';
import { errorCode, redirectIfUnauthenticated } from '../../lib/api.ts';
import { errorMessage } from '../../lib/errors.ts';
import { useLocale, useT } from '../../lib/i18n.tsx';
import { Alert, buttonClass, formatDate, inputClass, secondaryButtonClass } from './session.tsx';

const PAGE = 50;
const OUTCOMES = ['ok', 'refused', 'failed', 'abandoned'] as const;

/** Admins: the audit log, newest first, filtered by who, action and outcome, 50 at a time. */
export function AuditLog() {
  const t = useT('account');
  const locale = useLocale();
  const id = useId();
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const [outcome, setOutcome] = useState('');
  const [entries, setEntries] = useState<readonly AuditEntry[]>();
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string>();

  const fetchPage = useCallback(
    (before: number | undefined) => {
      const query = new URLSearchParams({ limit: String(PAGE) });
      if (actor.trim()) query.set('actor', actor.trim().toLowerCase());
      if (action.trim()) query.set('action', action.trim());
      if (outcome) query.set('outcome', outcome);
      if (before !== undefined) query.set('before', String(before));
      setError(undefined);
      accountCall<{ entries: AuditEntry[] }>('GET', `/v1/audit?${query}`).then(
        (answer) => {
          setEntries((shown) =>
            before === undefined ? answer.entries : [...(shown ?? []), ...answer.entries],
          );
          setMore(answer.entries.length === PAGE);
        },
        (caught: unknown) => {
          if (redirectIfUnauthenticated(caught, locale)) return;
          setError(errorCode(caught) === 'E_FORBIDDEN' ? t('adminOnly') : errorMessage(caught, locale));
        },
      );
    },
    [actor, action, outcome, locale, t],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: the first page loads once; filters apply on submit
  useEffect(() => fetchPage(undefined), []);

  return (
    <div className="mt-4 space-y-4">
      <p>{t('auditIntro')}</p>
      <form
        className="flex flex-wrap items-end gap-4 rounded-lg border border-slate-300 bg-white p-4"
        onSubmit={(event) => {
          event.preventDefault();
          fetchPage(undefined);
        }}
      >
        <div>
          <label htmlFor={`${id}-actor`} className="font-medium">
            {t('actor')}
          </label>
          <input
            id={`${id}-actor`}
            value={actor}
            onChange={(e) => setActor(e.target.value)}
            className={inputClass}
          />
        </div>
        <div>
          <label htmlFor={`${id}-action`} className="font-medium">
            {t('action')}
          </label>
          <input
            id={`${id}-action`}
            value={action}
            onChange={(e) => setAction(e.target.value)}
            className={inputClass}
          />
        </div>
        <div>
          <label htmlFor={`${id}-outcome`} className="font-medium">
            {t('outcome')}
          </label>
          <select
            id={`${id}-outcome`}
            value={outcome}
            onChange={(e) => setOutcome(e.target.value)}
            className={inputClass}
          >
            <option value="">{t('any')}</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {t(`outcome_${o}`)}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className={buttonClass}>
          {t('filter')}
        </button>
      </form>
      <Alert message={error} />
      {entries && entries.length === 0 && <p>{t('noEntries')}</p>}
      {entries && entries.length > 0 && (
        <div className="overflow-x-auto">
          <table className="w-full border-collapse bg-white text-left text-sm">
            <thead>
              <tr className="border-b border-slate-300">
                {(['when', 'actor', 'action', 'outcome', 'address', 'detail'] as const).map((k) => (
                  <th key={k} scope="col" className="p-2">
                    {t(k)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id} className="border-b border-slate-200 align-top">
                  <td className="whitespace-nowrap p-2">{formatDate(e.at, locale, true)}</td>
                  <td className="p-2 font-mono">{e.actor ?? '—'}</td>
                  <td className="p-2">
                    {e.action}
                    {e.target ? ` → ${e.target}` : ''}
                  </td>
                  <td className="p-2">{t(`outcome_${e.outcome}`)}</td>
                  <td className="p-2 font-mono">{e.ip ?? '—'}</td>
                  <td className="p-2 font-mono text-xs">
                    {Object.entries(e.detail)
                      .map(([k, v]) => `${k}=${v}`)
                      .join(' ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {more && entries && (
        <button type="button" className={secondaryButtonClass} onClick={() => fetchPage(entries.at(-1)?.id)}>
          {t('older')}
        </button>
      )}
    </div>
  );
}
