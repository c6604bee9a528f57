import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { type Readable, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { Database, Sql } from './database.ts';

/**
 * Logical backups of Nestor's tables, the same on PGlite and PostgreSQL (and from one to the
 * other): JSON lines, done through the ordinary connection, so no pg_dump and no superuser.
 *
 *   {"format":"nestor-backup","version":1,"createdAt":…,"migrations":[1,2],"tables":[…]}
 *   {"table":"users","columns":["id",…]}
 *   {"row":["0b5e…",…]}                 every value in PostgreSQL's text form, or null
 *   …
 *   {"end":true,"rows":123,"sha256":"…"}  the hash of every line above
 *
 * A restore replaces every table's rows in one transaction: a backup that is truncated, altered,
 * or from another schema version is refused and leaves the database as it was.
 */
export const BACKUP_FORMAT = 'nestor-backup';
export const BACKUP_VERSION = 1;

export interface BackupSummary {
  readonly tables: Readonly<Record<string, number>>;
  readonly rows: number;
  readonly migrations: readonly number[];
}

export class BackupError extends Error {
  override name = 'BackupError';
}

interface Table {
  readonly name: string;
  readonly columns: readonly string[];
  readonly primaryKey: readonly string[];
  /** Columns referencing this same table: restored after every row exists. */
  readonly selfReferences: readonly string[];
}

const ROWS_PER_PAGE = 500;
const ROWS_PER_INSERT = 100;
const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/** Our tables (all of the current schema but the migrations ledger), parents before children. */
export async function listTables(db: Sql): Promise<Table[]> {
  const names = (
    await db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname <> 'schema_migrations'
       ORDER BY c.relname`,
    )
  ).map((r) => r.name);
  const foreignKeys = await db.query<{ child: string; parent: string; columns: string[] }>(
    `SELECT cl.relname AS child, pr.relname AS parent, array_agg(a.attname::text ORDER BY a.attnum) AS columns
     FROM pg_constraint co
     JOIN pg_class cl ON cl.oid = co.conrelid
     JOIN pg_class pr ON pr.oid = co.confrelid
     JOIN pg_namespace n ON n.oid = cl.relnamespace
     JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = ANY (co.conkey)
     WHERE co.contype = 'f' AND n.nspname = current_schema()
     GROUP BY co.oid, cl.relname, pr.relname`,
  );
  const tables: Table[] = [];
  for (const name of names) {
    const columns = (
      await db.query<{ name: string }>(
        `SELECT attname::text AS name FROM pg_attribute
         WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
         ORDER BY attnum`,
        [quote(name)],
      )
    ).map((r) => r.name);
    const primaryKey = (
      await db.query<{ name: string }>(
        `SELECT a.attname::text AS name FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
         WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY a.attnum`,
        [quote(name)],
      )
    ).map((r) => r.name);
    if (primaryKey.length === 0) throw new BackupError(`Table ${name} has no primary key`);
    const selfReferences = foreignKeys
      .filter((f) => f.child === name && f.parent === name)
      .flatMap((f) => f.columns);
    tables.push({ name, columns, primaryKey, selfReferences });
  }
  // Parents first, so that every foreign key finds its row on restore.
  const ordered: Table[] = [];
  const placed = new Set<string>();
  while (ordered.length < tables.length) {
    const next = tables.find(
      (t) =>
        !placed.has(t.name) &&
        foreignKeys.every((f) => f.child !== t.name || f.parent === t.name || placed.has(f.parent)),
    );
    if (!next) throw new BackupError('The tables reference each other in a cycle');
    ordered.push(next);
    placed.add(next.name);
  }
  return ordered;
}

async function appliedMigrations(db: Sql): Promise<number[]> {
  const rows = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
  return rows.map((r) => Number(r.version));
}

/**
 * Writes a backup of every table to `out` (a stream of JSON lines); returns what it holds. Once
 * `signal` aborts, the next line throws its reason.
 */
export async function backupDatabase(
  db: Database,
  out: Writable,
  signal?: AbortSignal,
): Promise<BackupSummary> {
  const hash = createHash('sha256');
  let failed: Error | undefined;
  const onError = (error: Error) => {
    failed = error;
  };
  out.on('error', onError);
  const write = async (value: unknown) => {
    signal?.throwIfAborted();
    if (failed) throw failed;
    const line = `${JSON.stringify(value)}\n`;
    hash.update(line);
    if (!out.write(line)) {
      await new Promise<void>((resolve, reject) => out.once('drain', resolve).once('error', reject));
    }
  };
  // One snapshot: rows written while the backup runs are in it entirely or not at all.
  return db
    .transaction(async (tx) => {
      if (db.driver.kind === 'postgres')
        await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const tables = await listTables(tx);
      const migrations = await appliedMigrations(tx);
      await write({
        format: BACKUP_FORMAT,
        version: BACKUP_VERSION,
        createdAt: new Date().toISOString(),
        migrations,
        tables: tables.map((t) => t.name),
      });
      const counts: Record<string, number> = {};
      let rows = 0;
      for (const table of tables) {
        await write({ table: table.name, columns: table.columns });
        const select = `SELECT ${table.columns.map((c) => `${quote(c)}::text`).join(', ')} FROM ${quote(table.name)}
        ORDER BY ${table.primaryKey.map(quote).join(', ')} LIMIT ${ROWS_PER_PAGE} OFFSET $1`;
        let tableRows = 0;
        for (let offset = 0; ; offset += ROWS_PER_PAGE) {
          const page = await tx.query(select, [offset]);
          for (const row of page) await write({ row: Object.values(row) });
          tableRows += page.length;
          if (page.length < ROWS_PER_PAGE) break;
        }
        counts[table.name] = tableRows;
        rows += tableRows;
      }
      const end = { end: true, rows, sha256: hash.copy().digest('hex') };
      out.write(`${JSON.stringify(end)}\n`);
      if (failed) throw failed;
      return { tables: counts, rows, migrations };
    })
    .finally(() => out.off('error', onError));
}

type Line =
  | { format: string; version: number; migrations: number[]; tables: string[] }
  | { table: string; columns: string[] }
  | { row: (string | null)[] }
  | { end: true; rows: number; sha256: string };

/**
 * Replaces every table's rows with the backup's, in one transaction. The database must be at the
 * backup's schema version (same migrations); anything wrong, or `signal` aborting (checked at each
 * line), rolls the whole restore back.
 */
export async function restoreDatabase(
  db: Database,
  lines: AsyncIterable<string>,
  signal?: AbortSignal,
): Promise<BackupSummary> {
  return db.transaction(async (tx) => {
    const tables = new Map((await listTables(tx)).map((t) => [t.name, t]));
    const migrations = await appliedMigrations(tx);
    const hash = createHash('sha256');
    const counts: Record<string, number> = {};
    let header: { migrations: number[]; tables: string[] } | undefined;
    let current: { table: Table; columns: string[] } | undefined;
    let batch: (string | null)[][] = [];
    const deferred: { table: Table; key: (string | null)[]; values: (string | null)[] }[] = [];
    let rows = 0;
    let ended = false;

    const flush = async () => {
      if (!current || batch.length === 0) return;
      const { table, columns } = current;
      const params: (string | null)[] = [];
      const tuples = batch.map((values) => {
        const placeholders = columns.map((column, i) => {
          // Self-references wait until every row of the table exists.
          params.push(table.selfReferences.includes(column) ? null : (values[i] ?? null));
          return `$${params.length}`;
        });
        return `(${placeholders.join(', ')})`;
      });
      await tx.query(
        `INSERT INTO ${quote(table.name)} (${columns.map(quote).join(', ')}) OVERRIDING SYSTEM VALUE VALUES ${tuples.join(', ')}`,
        params,
      );
      for (const values of batch) {
        if (table.selfReferences.length === 0) continue;
        const pick = (names: readonly string[]) => names.map((n) => values[columns.indexOf(n)] ?? null);
        deferred.push({ table, key: pick(table.primaryKey), values: pick(table.selfReferences) });
      }
      batch = [];
    };

    for await (const text of lines) {
      signal?.throwIfAborted();
      if (text.trim() === '') continue;
      if (ended) throw new BackupError('The backup goes on after its end line');
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        throw new BackupError('The backup has a line that is not JSON (corrupt file?)');
      }
      if ('end' in line) {
        await flush();
        if (line.sha256 !== hash.digest('hex') || line.rows !== rows) {
          throw new BackupError('The backup does not match its checksum (altered or corrupt file)');
        }
        ended = true;
        continue;
      }
      hash.update(`${text}\n`);
      if (!header) {
        if (!('format' in line) || line.format !== BACKUP_FORMAT)
          throw new BackupError('This is not a Nestor backup');
        if (line.version !== BACKUP_VERSION)
          throw new BackupError(`Backup format ${line.version} is not supported`);
        if (JSON.stringify(line.migrations) !== JSON.stringify(migrations)) {
          throw new BackupError(
            `The backup is of schema migrations [${line.migrations.join(', ')}], the database has [${migrations.join(', ')}]: restore with the Nestor version that made it`,
          );
        }
        header = line;
        // Every table is emptied, including any the backup has no rows for.
        await tx.exec(`TRUNCATE ${[...tables.keys()].map(quote).join(', ')} RESTART IDENTITY`);
        continue;
      }
      if ('table' in line) {
        await flush();
        const table = tables.get(line.table);
        if (!table) throw new BackupError(`The backup has a table ${line.table} the database does not`);
        if ([...line.columns].sort().join() !== [...table.columns].sort().join()) {
          throw new BackupError(`Table ${line.table} has other columns in the backup than in the database`);
        }
        current = { table, columns: line.columns };
        counts[table.name] = 0;
        continue;
      }
      if (!('row' in line) || !current || line.row.length !== current.columns.length) {
        throw new BackupError('The backup has a row outside a table or of the wrong width');
      }
      batch.push(line.row);
      counts[current.table.name]! += 1;
      rows += 1;
      if (batch.length >= ROWS_PER_INSERT) await flush();
    }
    if (!header) throw new BackupError('The backup is empty');
    if (!ended) throw new BackupError('The backup is truncated (no end line)');

    for (const { table, key, values } of deferred) {
      const params = [...values, ...key];
      const set = table.selfReferences.map((c, i) => `${quote(c)} = $${i + 1}`).join(', ');
      const where = table.primaryKey
        .map((c, i) => `${quote(c)}::text = $${values.length + i + 1}`)
        .join(' AND ');
      await tx.query(`UPDATE ${quote(table.name)} SET ${set} WHERE ${where}`, params);
    }
    // Serial columns continue after the restored rows.
    for (const table of tables.values()) {
      for (const column of table.columns) {
        const [sequence] = await tx.query<{ name: string | null }>(
          'SELECT pg_get_serial_sequence($1, $2) AS name',
          [quote(table.name), column],
        );
        if (!sequence?.name) continue;
        await tx.query(
          `SELECT setval($1, COALESCE((SELECT max(${quote(column)}) FROM ${quote(table.name)}), 1),
             (SELECT max(${quote(column)}) IS NOT NULL FROM ${quote(table.name)}))`,
          [sequence.name],
        );
      }
    }
    return { tables: counts, rows, migrations };
  });
}

const gzipped = (file: string) => file.endsWith('.gz');

/**
 * Backs up into `file` (gzip when it ends in .gz), written to a temporary name and renamed at the
 * end; a failure or `signal` aborting removes the temporary file.
 */
export async function backupToFile(db: Database, file: string, signal?: AbortSignal): Promise<BackupSummary> {
  const partial = `${file}.partial`;
  const sink = createWriteStream(partial, { mode: 0o600 });
  const gzip = gzipped(file) ? createGzip() : undefined;
  const out = gzip ?? sink;
  // `finished` also settles on a stream destroyed without an error (an interrupted backup).
  const done = gzip ? pipeline(gzip, sink) : finished(sink);
  try {
    const summary = await backupDatabase(db, out, signal);
    out.end();
    await done;
    await rename(partial, file);
    return summary;
  } catch (error) {
    out.destroy();
    // The backup's own error is the one reported; the stream's, caused by destroying it, is not.
    await done.catch(() => undefined);
    await rm(partial, { force: true });
    throw error;
  }
}

/** Restores from a file made by `backupToFile` (gunzipped when it ends in .gz), as `restoreDatabase`. */
export async function restoreFromFile(
  db: Database,
  file: string,
  signal?: AbortSignal,
): Promise<BackupSummary> {
  const input: Readable = gzipped(file)
    ? createReadStream(file).pipe(createGunzip())
    : createReadStream(file);
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  // Iterate at once: readline emits lines from the start, and lines before iteration would be lost.
  const iterator = lines[Symbol.asyncIterator]();
  try {
    return await restoreDatabase(db, { [Symbol.asyncIterator]: () => iterator }, signal);
  } finally {
    lines.close();
    input.destroy();
  }
}

/** A Writable collecting text, for tests and small in-memory backups. */
export function textSink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}
