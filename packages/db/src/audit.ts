import type { Row, Sql } from './database.ts';

/** `abandoned`: the client left before the answer reached it. */
export const AUDIT_OUTCOMES = ['ok', 'refused', 'failed', 'abandoned'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** Counts and codes only: a detail never holds image data or a secret. */
export type AuditDetail = Readonly<Record<string, string | number | boolean>>;

export interface AuditEntry {
  readonly at: Date;
  /** Username, or its pseudonym; null for anonymous requests. */
  readonly actor: string | null;
  readonly ip: string | null;
  readonly action: string;
  readonly outcome: AuditOutcome;
  readonly target: string | null;
  readonly detail: AuditDetail;
}

export interface AuditRecord extends AuditEntry {
  readonly id: number;
}

export interface AuditFilter {
  readonly actor?: string;
  readonly action?: string;
  readonly outcome?: AuditOutcome;
  readonly since?: Date;
  readonly until?: Date;
  /** Entries older than the one with this id (pagination, newest first). */
  readonly before?: number;
  readonly limit: number;
}

const toRecord = (r: Row): AuditRecord => ({
  id: Number(r.id),
  at: r.at as Date,
  actor: (r.actor as string | null) ?? null,
  ip: (r.ip as string | null) ?? null,
  action: r.action as string,
  outcome: r.outcome as AuditOutcome,
  target: (r.target as string | null) ?? null,
  detail: (typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail) as AuditDetail,
});

/** The audit log: append, list newest first with filters, prune by age. */
export function auditRepository(db: Sql) {
  return {
    async append(entry: AuditEntry): Promise<void> {
      await db.query(
        'INSERT INTO audit_log (at, actor, ip, action, outcome, target, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [
          entry.at,
          entry.actor,
          entry.ip,
          entry.action,
          entry.outcome,
          entry.target,
          JSON.stringify(entry.detail),
        ],
      );
    },

    async list(filter: AuditFilter): Promise<AuditRecord[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (clause: string, value: unknown) => {
        params.push(value);
        where.push(clause.replace('?', `$${params.length}`));
      };
      if (filter.actor !== undefined) add('actor = ?', filter.actor);
      if (filter.action !== undefined) add('action = ?', filter.action);
      if (filter.outcome !== undefined) add('outcome = ?', filter.outcome);
      if (filter.since !== undefined) add('at >= ?', filter.since);
      if (filter.until !== undefined) add('at < ?', filter.until);
      if (filter.before !== undefined) add('id < ?', filter.before);
      params.push(filter.limit);
      const rows = await db.query(
        `SELECT id, at, actor, ip, action, outcome, target, detail FROM audit_log
         ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY id DESC LIMIT $${params.length}`,
        params,
      );
      return rows.map(toRecord);
    },

    /** Deletes entries older than `before`; returns how many. */
    async prune(before: Date): Promise<number> {
      return (await db.query('DELETE FROM audit_log WHERE at < $1 RETURNING id', [before])).length;
    },
  };
}

export type AuditRepository = ReturnType<typeof auditRepository>;
