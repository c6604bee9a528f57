import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** A row as the driver returns it; repositories narrow it to their own types. */
export type Row = Record<string, unknown>;

/** What repositories and migrations use: parameterised queries ($1, $2…) and transactions. */
export interface Sql {
  /** One statement with `$n` parameters; never build SQL from user input. */
  query<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations). */
  exec(text: string): Promise<void>;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T>;
}

/** The driver underneath, for the few things that are not SQL (backups). */
export type Driver =
  | { readonly kind: 'pglite'; readonly pglite: PGlite }
  | { readonly kind: 'postgres'; readonly pool: pg.Pool };

export interface Database extends Sql {
  readonly driver: Driver;
  close(): Promise<void>;
}

export type DatabaseTarget =
  /** A PostgreSQL connection string: `postgres://user:pass@host:5432/db`. */
  | { readonly url: string }
  /** An embedded PGlite database in this folder (created if missing), or `memory://` for tests. */
  | { readonly dataDir: string };

const INT8 = 20;
const NUMERIC = 1700;

/** Opens the database without migrating it (`openDatabase` in index.ts migrates). */
export async function connect(target: DatabaseTarget): Promise<Database> {
  return 'url' in target ? connectPostgres(target.url) : connectPglite(target.dataDir);
}

async function connectPglite(dataDir: string): Promise<Database> {
  // Counters are int8: read them as numbers on both drivers (they stay far below 2^53).
  const pglite = await PGlite.create(dataDir, {
    parsers: { [INT8]: (v: string) => Number(v), [NUMERIC]: (v: string) => Number(v) },
  });
  // PGlite is one connection: queries queue on it, so a transaction must not interleave with others.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };
  const direct: Sql = {
    query: async <T extends Row>(text: string, params: readonly unknown[] = []) =>
      (await pglite.query<T>(text, [...params])).rows,
    exec: async (text) => {
      await pglite.exec(text);
    },
    transaction: () => Promise.reject(new Error('Nested transactions are not supported')),
  };
  return {
    driver: { kind: 'pglite', pglite },
    query: (text, params) => serial(() => direct.query(text, params)),
    exec: (text) => serial(() => direct.exec(text)),
    transaction: (work) =>
      serial(() =>
        pglite.transaction(async (tx) =>
          work({
            query: async <T extends Row>(text: string, params: readonly unknown[] = []) =>
              (await tx.query<T>(text, [...params])).rows,
            exec: async (text) => {
              await tx.exec(text);
            },
            transaction: direct.transaction,
          }),
        ),
      ),
    close: () => serial(() => pglite.close()),
  };
}

async function connectPostgres(url: string): Promise<Database> {
  const parse = (v: string) => Number(v);
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8 || oid === NUMERIC
          ? parse
          : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', (error) => process.emitWarning(`PostgreSQL idle connection lost: ${error.message}`));
  const on = (client: pg.Pool | pg.PoolClient): Sql => ({
    query: async <T extends Row>(text: string, params: readonly unknown[] = []) =>
      (await client.query<T>(text, [...params])).rows,
    exec: async (text) => {
      await client.query(text);
    },
    transaction: () => Promise.reject(new Error('Nested transactions are not supported')),
  });
  const db = on(pool);
  return {
    driver: { kind: 'postgres', pool },
    query: db.query,
    exec: db.exec,
    transaction: async (work) => {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await work(on(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        // The caller's error is the one that matters; a connection that cannot roll back is discarded.
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      } finally {
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
