import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BackupError,
  backupDatabase,
  backupToFile,
  listTables,
  restoreDatabase,
  restoreFromFile,
  textSink,
} from './backup.ts';
import type { Database } from './database.ts';
import { openDatabase } from './index.ts';
import { statsRepository } from './stats.ts';
import { openTestDatabase, TEST_DATABASES } from './testing.ts';

const t0 = new Date('2026-03-01T10:00:00.123Z');

/** Rows in every table, with the awkward types: uuid, self reference, text[], jsonb, bigserial, nulls, quotes. */
async function fill(db: Database): Promise<void> {
  const admin = randomUUID();
  const user = randomUUID();
  const insertUser = `INSERT INTO users (id, username, role, created_at, created_by, password_hash, totp_secret,
      credentials_issued_at, credentials_expire_at, last_totp_step, failed_logins, locked_until)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $4, $8, $9, $10, $11)`;
  // The user (created by the admin) is inserted first: a restore must cope with that order.
  await db.query(insertUser, [
    admin,
    'admin',
    'admin',
    t0,
    null,
    '$argon2id$v=19$a',
    'enc:"x"',
    t0,
    0,
    0,
    null,
  ]);
  await db.query(insertUser, [
    user,
    'jo.user',
    'user',
    t0,
    admin,
    '$argon2id$v=19$b',
    'enc:y',
    t0,
    123456789012,
    2,
    t0,
  ]);
  await db.query(
    `INSERT INTO credential_links (token_hash, user_id, purpose, password_secret, created_at, expires_at, used_at)
     VALUES ('tok1', $1, 'enrol', 'enc:p', $2, $2, NULL)`,
    [user, t0],
  );
  await db.query(
    `INSERT INTO sessions (id_hash, user_id, created_at, expires_at, last_seen_at) VALUES ('s1', $1, $2, $2, $2)`,
    [user, t0],
  );
  await db.query(
    `INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, created_at) VALUES ($1, $2, 'ci, "quoted"', 'nst_ab', 'h1', $3, $4)`,
    [randomUUID(), user, ['detect', 'anonymize'], t0],
  );
  for (let i = 0; i < 3; i++) {
    await db.query(
      `INSERT INTO audit_log (at, actor, ip, action, outcome, target, detail) VALUES ($1, $2, $3, 'login', 'ok', NULL, $4)`,
      [t0, 'jo.user', '127.0.0.1', JSON.stringify({ n: i, note: 'line\nbreak \\ "q"' })],
    );
  }
  await db.query(
    'INSERT INTO device_tokens (token_hash, user_id, created_at, expires_at, failed_logins) VALUES ($1, $2, $3, $3, 1)',
    ['d1', user, t0],
  );
  await db.query(
    'INSERT INTO unknown_logins (name_mac, failed_logins, locked_until, updated_at) VALUES ($1, 5, $2, $2)',
    ['mac1', t0],
  );
  await statsRepository(db).add([
    { day: '2026-03-01', metric: 'requests', dimension: 'detect', bucket: '', value: 7 },
    { day: '2026-03-01', metric: 'latency', dimension: 'detect', bucket: '+Inf', value: 1 },
  ]);
}

/** Every row of every table in PostgreSQL's text form, sorted: what "identical" means here. */
async function snapshot(db: Database): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of await listTables(db)) {
    const rows = await db.query(
      `SELECT ${table.columns.map((c) => `"${c}"::text`).join(', ')} FROM "${table.name}"`,
    );
    out[table.name] = rows.map((r) => JSON.stringify(Object.values(r))).sort();
  }
  return out;
}

async function wipe(db: Database): Promise<void> {
  const tables = await listTables(db);
  await db.exec(`TRUNCATE ${tables.map((t) => `"${t.name}"`).join(', ')} RESTART IDENTITY`);
}

async function* linesOf(text: string): AsyncIterable<string> {
  yield* text.split('\n');
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'nestor-backup-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each(TEST_DATABASES)('backup and restore on $name', ({ name, skip }) => {
  let db: Database;
  let before: Record<string, string[]>;
  beforeAll(async () => {
    if (skip) return;
    db = await openTestDatabase(name);
    await fill(db);
    before = await snapshot(db);
  });
  afterAll(async () => {
    await db?.close();
  });
  const why = skip ? ` (skipped: ${skip})` : '';

  it.skipIf(skip)(`the fixture has rows in every table${why}`, () => {
    for (const [table, rows] of Object.entries(before)) expect(rows.length, table).toBeGreaterThan(0);
  });

  it.skipIf(skip).each(['plain.jsonl', 'compressed.jsonl.gz'])(
    `backs up to %s, wipes, restores every row${why}`,
    async (file) => {
      const target = path.join(dir, `${name}-${file}`);
      const made = await backupToFile(db, target);
      expect(made.rows).toBe(Object.values(before).reduce((n, rows) => n + rows.length, 0));
      await wipe(db);
      expect(Object.values(await snapshot(db)).flat()).toEqual([]);
      const restored = await restoreFromFile(db, target);
      expect(restored).toEqual(made);
      expect(await snapshot(db)).toEqual(before);
    },
  );

  it.skipIf(skip)(`serial ids continue after the restored rows${why}`, async () => {
    const [row] = await db.query<{ id: number }>(
      `INSERT INTO audit_log (at, action, outcome) VALUES ($1, 'probe', 'ok') RETURNING id`,
      [t0],
    );
    expect(Number(row!.id)).toBe(4);
    await db.query(`DELETE FROM audit_log WHERE action = 'probe'`);
  });

  it.skipIf(skip)(`refuses a corrupt, truncated or foreign backup and changes nothing${why}`, async () => {
    const sink = textSink();
    await backupDatabase(db, sink.stream);
    const good = sink.text();
    const lines = good.trimEnd().split('\n');
    const cases: [string, string, RegExp][] = [
      ['altered row', good.replace('jo.user', 'jo.hacker'), /checksum/],
      ['truncated', lines.slice(0, -1).join('\n'), /truncated/],
      ['cut mid-line', good.slice(0, good.length - 20), /not JSON|truncated/],
      ['not a backup', '{"hello":1}\n', /not a Nestor backup/],
      ['empty', '', /empty/],
      ['other schema', good.replace(/"migrations":\[[\d,]*\]/, '"migrations":[1]'), /schema migrations/],
    ];
    for (const [what, text, error] of cases) {
      await expect(restoreDatabase(db, linesOf(text)), what).rejects.toThrow(error);
      await expect(restoreDatabase(db, linesOf(text)), what).rejects.toBeInstanceOf(BackupError);
      expect(await snapshot(db), what).toEqual(before);
    }
  });

  it.skipIf(skip)(
    `an interrupted restore, after it emptied the tables, rolls back: nothing changed${why}`,
    async () => {
      const sink = textSink();
      await backupDatabase(db, sink.stream);
      const controller = new AbortController();
      const reason = new Error('interrupted');
      async function* interruptedAfterTwoLines(): AsyncIterable<string> {
        const lines = sink.text().trimEnd().split('\n');
        // The header (the tables are emptied then), a table line, then the interruption.
        yield lines[0]!;
        yield lines[1]!;
        controller.abort(reason);
        yield* lines.slice(2);
      }
      await expect(restoreDatabase(db, interruptedAfterTwoLines(), controller.signal)).rejects.toBe(reason);
      expect(await snapshot(db)).toEqual(before);
    },
  );

  it.skipIf(skip)(
    `restores into a fresh database of the other kind (PGlite ⇄ PostgreSQL)${why}`,
    async () => {
      const sink = textSink();
      await backupDatabase(db, sink.stream);
      const otherKind = TEST_DATABASES.find((d) => d.name !== name && !d.skip);
      const other = otherKind
        ? await openTestDatabase(otherKind.name)
        : await openDatabase({ dataDir: 'memory://' });
      try {
        await restoreDatabase(other, linesOf(sink.text()));
        expect(await snapshot(other)).toEqual(before);
      } finally {
        await other.close();
      }
    },
  );
});

describe('backup files', () => {
  it('a backup that cannot be written fails and leaves no file behind', async () => {
    const db = await openDatabase({ dataDir: 'memory://' });
    try {
      for (const target of [path.join(dir, 'missing', 'x.jsonl'), path.join(dir, 'missing', 'x.jsonl.gz')]) {
        await expect(backupToFile(db, target)).rejects.toThrow(/ENOENT/);
        await expect(readFile(target)).rejects.toThrow(/ENOENT/);
      }
    } finally {
      await db.close();
    }
  });

  it('an interrupted backup leaves no file behind, partial or not', async () => {
    const db = await openDatabase({ dataDir: 'memory://' });
    try {
      const controller = new AbortController();
      controller.abort(new Error('interrupted'));
      const target = path.join(dir, 'interrupted.jsonl.gz');
      await expect(backupToFile(db, target, controller.signal)).rejects.toThrow('interrupted');
      await expect(readFile(target)).rejects.toThrow(/ENOENT/);
      await expect(readFile(`${target}.partial`)).rejects.toThrow(/ENOENT/);
    } finally {
      await db.close();
    }
  });

  it('refuses lines after the end line', async () => {
    const db = await openDatabase({ dataDir: 'memory://' });
    try {
      const sink = textSink();
      await backupDatabase(db, sink.stream);
      const file = path.join(dir, 'extra.jsonl');
      await writeFile(file, `${sink.text()}{"row":[]}\n`);
      await expect(restoreFromFile(db, file)).rejects.toThrow(/after its end/);
    } finally {
      await db.close();
    }
  });
});
