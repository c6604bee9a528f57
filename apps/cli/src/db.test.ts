import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { auditRepository, openDatabase } from '@nestor/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, main } from './main.ts';
import { captureIo, interruptibleIo } from './test-support.ts';

describe('nestor db backup | restore (PGlite from the config)', () => {
  let dir: string;
  const at = new Date('2026-05-01T12:00:00Z');
  const entries = async () => {
    const db = await openDatabase({ dataDir: path.join(dir, 'data/db') });
    try {
      return (await auditRepository(db).list({ limit: 10 })).map((e) => e.action);
    } finally {
      await db.close();
    }
  };
  const append = async (action: string) => {
    const db = await openDatabase({ dataDir: path.join(dir, 'data/db') });
    try {
      await auditRepository(db).append({
        at,
        actor: null,
        ip: null,
        action,
        outcome: 'ok',
        target: null,
        detail: {},
      });
    } finally {
      await db.close();
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-cli-db-'));
    mkdirSync(path.join(dir, 'data/db'), { recursive: true });
    writeFileSync(
      path.join(dir, 'nestor-ai-config.json'),
      JSON.stringify({ database: { dataDir: 'data/db' } }),
    );
    await append('before-backup');
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('backs up, refuses a restore without --yes, restores with it', async () => {
    const io = captureIo(dir);
    expect(await main(['db', 'backup', 'nightly.jsonl.gz'], io)).toBe(EXIT.ok);
    expect(io.err()).toMatch(/nestor db backup: .*nightly\.jsonl\.gz: 1 rows in \d+ tables/);

    await append('after-backup');
    expect(await entries()).toEqual(['after-backup', 'before-backup']);

    const refused = captureIo(dir);
    expect(await main(['db', 'restore', 'nightly.jsonl.gz'], refused)).toBe(EXIT.usage);
    expect(refused.err()).toMatch(/E_INVALID_OPTION: restore replaces every row.*--yes/);
    expect(await entries()).toEqual(['after-backup', 'before-backup']);

    const restored = captureIo(dir);
    expect(await main(['db', 'restore', 'nightly.jsonl.gz', '--yes'], restored)).toBe(EXIT.ok);
    expect(restored.err()).toMatch(/nestor db restore: .*1 rows/);
    expect(await entries()).toEqual(['before-backup']);
  });

  it('interrupted (Ctrl-C): no backup written, or a restore rolled back; exit 130', async () => {
    const backup = interruptibleIo(dir);
    backup.interrupt();
    expect(await main(['db', 'backup', 'stopped.jsonl'], backup)).toBe(EXIT.interrupted);
    expect(backup.err()).toContain('nestor db backup: interrupted: no backup written');
    expect(existsSync(path.join(dir, 'stopped.jsonl'))).toBe(false);
    expect(existsSync(path.join(dir, 'stopped.jsonl.partial'))).toBe(false);

    expect(await main(['db', 'backup', 'kept.jsonl'], captureIo(dir))).toBe(EXIT.ok);
    const before = await entries();
    const restore = interruptibleIo(dir);
    restore.interrupt();
    expect(await main(['db', 'restore', 'kept.jsonl', '--yes'], restore)).toBe(EXIT.interrupted);
    expect(restore.err()).toContain('rolled back, the database is unchanged');
    expect(await entries()).toEqual(before);
    expect(restore.released()).toBe(true);
  });

  it('refuses to back up a PGlite folder that holds no database', async () => {
    writeFileSync(path.join(dir, 'empty.json'), JSON.stringify({ database: { dataDir: 'nothing-here' } }));
    const io = captureIo(dir);
    expect(await main(['db', 'backup', 'x.jsonl', '-c', 'empty.json'], io)).toBe(EXIT.usage);
    expect(io.err()).toMatch(/E_INVALID_CONFIG: There is no PGlite database in .*nothing-here/);
  });

  it('a missing backup file is a clear error', async () => {
    const io = captureIo(dir);
    expect(await main(['db', 'restore', 'nope.jsonl', '--yes'], io)).toBe(EXIT.fatal);
    expect(io.err()).toMatch(/ENOENT|nope\.jsonl/);
  });
});
