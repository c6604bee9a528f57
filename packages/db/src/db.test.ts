import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountsRepository } from './accounts.ts';
import { auditRepository } from './audit.ts';
import type { Database } from './database.ts';
import { connect, migrate, readMigrations } from './index.ts';
import { openTestDatabase, TEST_DATABASES } from './testing.ts';

const t0 = new Date('2026-01-01T00:00:00Z');
const later = (ms: number) => new Date(t0.getTime() + ms);

const enrolLink = (userId: string) => ({
  userId,
  purpose: 'enrol' as const,
  passwordSecret: 'enc:pw',
  expiresAt: later(900_000),
});
const newUser = (username: string) => ({
  id: randomUUID(),
  username,
  role: 'user' as const,
  createdAt: t0,
  createdBy: null,
  passwordHash: '$argon2id$fake',
  totpSecret: 'enc:secret',
  credentialsExpireAt: later(1000 * 86_400),
});

describe('migrations', () => {
  it('refuses two files with one number and names that do not follow NNNN_name.sql', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nestor-mig-'));
    try {
      await writeFile(path.join(dir, '0001_a.sql'), 'SELECT 1');
      await writeFile(path.join(dir, '0001_b.sql'), 'SELECT 1');
      await expect(readMigrations(dir)).rejects.toThrow(/share number 0001/);
      await rm(path.join(dir, '0001_b.sql'));
      await writeFile(path.join(dir, 'two.sql'), 'SELECT 1');
      await expect(readMigrations(dir)).rejects.toThrow(/NNNN_name/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.each(TEST_DATABASES)('storage on $name', ({ name, skip }) => {
  let db: Database;
  beforeAll(async () => {
    if (!skip) db = await openTestDatabase(name);
  });
  afterAll(async () => {
    await db?.close();
  });

  it.skipIf(skip)(`applies each migration once${skip ? ` (skipped: ${skip})` : ''}`, async () => {
    expect(await migrate(db, await readMigrations())).toEqual([]);
    const versions = await db.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    expect(versions.map((v) => v.version)).toEqual((await readMigrations()).map((m) => m.version));
  });

  it.skipIf(skip)('rolls a failed transaction back', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query('CREATE TABLE rollback_probe (x int)');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db.query("SELECT to_regclass('rollback_probe') AS t")).toEqual([{ t: null }]);
  });

  it.skipIf(skip)('users: unique lowercase names, TOTP steps never accepted twice, lockout', async () => {
    const accounts = accountsRepository(db);
    const alice = await accounts.insertUser(newUser('alice'));
    expect(alice).toMatchObject({ username: 'alice', role: 'user', lastTotpStep: 0, failedLogins: 0 });
    expect(alice.createdAt.getTime()).toBe(t0.getTime());
    await expect(accounts.insertUser(newUser('alice'))).rejects.toThrow();
    await expect(accounts.insertUser(newUser('Bob'))).rejects.toThrow();
    await expect(accounts.insertUser(newUser("x'; DROP TABLE users; --"))).rejects.toThrow();
    expect(await accounts.userByName("alice' OR '1'='1")).toBeUndefined();

    expect(await accounts.consumeTotpStep(alice.id, 100)).toBe(true);
    expect(await accounts.consumeTotpStep(alice.id, 100)).toBe(false);
    expect(await accounts.consumeTotpStep(alice.id, 99)).toBe(false);
    expect(await accounts.consumeTotpStep(alice.id, 101)).toBe(true);

    const until = later(60_000);
    expect((await accounts.recordFailure(alice.id, 2, until, t0))?.lockedUntil).toBeNull();
    expect((await accounts.recordFailure(alice.id, 2, until, later(1)))?.lockedUntil?.getTime()).toBe(
      until.getTime(),
    );
    // Still locked (sign-in refuses before it counts, but a count may race it): the lock is renewed.
    expect(await accounts.recordFailure(alice.id, 2, later(70_000), later(2))).toMatchObject({
      failedLogins: 3,
      lockedUntil: later(70_000),
    });
    // The lock ran out: the count starts again, and one mistake is not a new lock.
    expect(await accounts.recordFailure(alice.id, 2, later(180_000), later(120_000))).toMatchObject({
      failedLogins: 1,
      lockedUntil: null,
    });
    expect(await accounts.recordFailure(alice.id, 2, later(180_000), later(120_001))).toMatchObject({
      failedLogins: 2,
      lockedUntil: later(180_000),
    });
    await accounts.clearFailures(alice.id);
    expect(await accounts.userById(alice.id)).toMatchObject({ failedLogins: 0, lockedUntil: null });
  });

  it.skipIf(skip)(
    'links open once and before they expire; new credentials end sessions and links',
    async () => {
      const accounts = accountsRepository(db);
      const bob = await accounts.insertUser(newUser('bob'));
      const link = enrolLink(bob.id);
      await accounts.insertLink('h1', link, t0);
      await accounts.insertLink('h2', link, t0);
      expect(await accounts.claimLink('h1', later(900_001))).toBeUndefined();
      expect(await accounts.claimLink('h2', later(1000))).toMatchObject({
        userId: bob.id,
        passwordSecret: 'enc:pw',
      });
      expect(await accounts.claimLink('h2', later(2000))).toBeUndefined();
      expect(await db.query("SELECT password_secret FROM credential_links WHERE token_hash = 'h2'")).toEqual([
        { password_secret: null },
      ]);

      await accounts.insertSession('s1', bob.id, t0, later(3_600_000));
      expect((await accounts.sessionUser('s1', later(1000), later(-1)))?.id).toBe(bob.id);
      // Unused since before the idle limit: over, though not expired.
      expect(await accounts.sessionUser('s1', later(2000), later(1000))).toBeUndefined();
      expect((await accounts.sessionUser('s1', later(2000), later(999)))?.id).toBe(bob.id);
      expect(await accounts.sessionUser('s1', later(3_600_000), later(-1))).toBeUndefined();
      await accounts.insertLink('h3', link, t0);
      await accounts.replaceCredentials(bob.id, {
        passwordHash: 'new',
        totpSecret: 'enc:new',
        issuedAt: later(5000),
        expireAt: later(10_000),
      });
      expect(await accounts.sessionUser('s1', later(1000), later(-1))).toBeUndefined();
      expect(await accounts.claimLink('h3', later(1000))).toBeUndefined();
      expect(await accounts.userById(bob.id)).toMatchObject({ passwordHash: 'new', totpSecret: 'enc:new' });
    },
  );

  it.skipIf(skip)('API keys: found by hash while live, used when told, listed, revoked once', async () => {
    const accounts = accountsRepository(db);
    const carol = await accounts.insertUser(newUser('carol'));
    const dave = await accounts.insertUser(newUser('dave'));
    const key = await accounts.insertApiKey({
      id: randomUUID(),
      userId: carol.id,
      name: 'ci',
      prefix: 'nst_abcd',
      keyHash: 'kh1',
      scopes: ['detect', 'anonymize'],
      createdAt: t0,
    });
    expect(key.scopes).toEqual(['detect', 'anonymize']);
    expect((await accounts.liveApiKey('kh1'))?.user.id).toBe(carol.id);
    expect((await accounts.liveApiKey('kh1'))?.key.lastUsedAt).toBeNull();
    await accounts.touchApiKey(key.id, later(1));
    expect((await accounts.liveApiKey('kh1'))?.key.lastUsedAt).toEqual(later(1));
    expect(await accounts.listApiKeys(dave.id)).toEqual([]);
    expect((await accounts.listApiKeys(carol.id)).map((k) => k.id)).toEqual([key.id]);
    expect(await accounts.revokeApiKey(key.id, later(2))).toBe(true);
    expect(await accounts.revokeApiKey(key.id, later(3))).toBe(false);
    expect(await accounts.liveApiKey('kh1')).toBeUndefined();
  });

  it.skipIf(skip)(
    'device tokens: live until they expire, revoked by failures, new credentials, a disable or a deletion',
    async () => {
      const accounts = accountsRepository(db);
      const fred = await accounts.insertUser(newUser('fred'));
      await accounts.insertDeviceToken('d1', fred.id, t0, later(1000));
      expect(await accounts.liveDeviceToken('d1', later(999))).toEqual({ userId: fred.id, failedLogins: 0 });
      expect(await accounts.liveDeviceToken('d1', later(1000))).toBeUndefined();
      expect(await accounts.liveDeviceToken('d1x', t0)).toBeUndefined();
      expect(await accounts.recordDeviceFailure('d1', 2)).toEqual({ failedLogins: 1, revoked: false });
      expect(await accounts.liveDeviceToken('d1', t0)).toEqual({ userId: fred.id, failedLogins: 1 });
      expect(await accounts.recordDeviceFailure('d1', 2)).toEqual({ failedLogins: 2, revoked: true });
      expect(await accounts.liveDeviceToken('d1', t0)).toBeUndefined();
      expect(await accounts.recordDeviceFailure('d1', 2)).toMatchObject({ revoked: true });

      const live = async (hash: string) => (await accounts.liveDeviceToken(hash, t0)) !== undefined;
      for (const hash of ['d2', 'd3', 'd4']) await accounts.insertDeviceToken(hash, fred.id, t0, later(1000));
      await accounts.deleteDeviceToken('d2');
      expect([await live('d2'), await live('d3')]).toEqual([false, true]);
      await accounts.pruneExpired(later(999));
      expect(await live('d3')).toBe(true);
      await accounts.pruneExpired(later(1000));
      expect(await db.query("SELECT token_hash FROM device_tokens WHERE token_hash IN ('d3', 'd4')")).toEqual(
        [],
      );

      const renew = { passwordHash: 'new', totpSecret: 'enc:new', issuedAt: t0, expireAt: later(10_000) };
      await accounts.insertDeviceToken('d5', fred.id, t0, later(1000));
      await accounts.replaceCredentials(fred.id, renew);
      expect(await live('d5')).toBe(false);
      await accounts.insertDeviceToken('d6', fred.id, t0, later(1000));
      await accounts.setDisabled(fred.id, null);
      expect(await live('d6')).toBe(true);
      await accounts.setDisabled(fred.id, later(1));
      expect(await live('d6')).toBe(false);
      await accounts.insertDeviceToken('d7', fred.id, t0, later(1000));
      await accounts.deleteUser(fred.id);
      expect(await live('d7')).toBe(false);
    },
  );

  it.skipIf(skip)(
    'unknown names: failures counted and locked like an account, pruned a day later',
    async () => {
      const accounts = accountsRepository(db);
      const lock = later(900_000);
      expect(await accounts.recordUnknownFailure('m1', 2, lock, t0)).toEqual({
        failedLogins: 1,
        lockedUntil: null,
      });
      expect(await accounts.unknownLoginLockedUntil('m1')).toBeNull();
      expect(await accounts.recordUnknownFailure('m1', 2, lock, later(1))).toEqual({
        failedLogins: 2,
        lockedUntil: lock,
      });
      expect(await accounts.unknownLoginLockedUntil('m1')).toEqual(lock);
      // As for an account: once the lock ran out, the count starts again.
      expect(await accounts.recordUnknownFailure('m2', 2, lock, t0)).toMatchObject({ failedLogins: 1 });
      expect(await accounts.recordUnknownFailure('m2', 2, lock, later(1))).toMatchObject({
        lockedUntil: lock,
      });
      expect(await accounts.recordUnknownFailure('m2', 2, later(2_000_000), later(900_001))).toEqual({
        failedLogins: 1,
        lockedUntil: null,
      });
      await accounts.pruneExpired(later(86_000_000));
      expect(await accounts.unknownLoginLockedUntil('m1')).toEqual(lock);
      await accounts.pruneExpired(later(86_400_001));
      expect(await accounts.unknownLoginLockedUntil('m1')).toBeNull();
      expect(await accounts.recordUnknownFailure('m1', 2, lock, later(86_400_002))).toMatchObject({
        failedLogins: 1,
      });
    },
  );

  it.skipIf(skip)(
    'the last enabled admin stays one, even when two admins demote each other at once',
    async () => {
      const accounts = accountsRepository(db);
      const a = await accounts.insertUser({ ...newUser('last-a'), role: 'admin' });
      const b = await accounts.insertUser({ ...newUser('last-b'), role: 'admin' });
      const raced = await Promise.all([accounts.setRole(a.id, 'user'), accounts.setRole(b.id, 'user')]);
      expect([...raced].sort()).toEqual(['done', 'last-admin']);
      const admins = (await accounts.listUsers()).filter((u) => u.role === 'admin' && !u.disabledAt);
      expect(admins).toHaveLength(1);
      const last = admins[0]!.id;
      expect(await accounts.setDisabled(last, later(1))).toBe('last-admin');
      expect(await accounts.deleteUser(last)).toBe('last-admin');
      expect((await accounts.userById(last))?.role).toBe('admin');
      expect(await accounts.setRole(last, 'admin')).toBe('done');
      expect(await accounts.setDisabled(randomUUID(), null)).toBe('missing');
    },
  );

  it.skipIf(skip)('a credentials link opens once even when requests race for it', async () => {
    const accounts = accountsRepository(db);
    const gil = await accounts.insertUser(newUser('race-gil'));
    await accounts.insertLink('race1', enrolLink(gil.id), t0);
    const claims = await Promise.all(Array.from({ length: 5 }, () => accounts.claimLink('race1', later(1))));
    expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
  });

  it.skipIf(skip)('re-encrypts every stored secret in one go', async () => {
    const accounts = accountsRepository(db);
    const erin = await accounts.insertUser(newUser('erin'));
    await accounts.insertLink(
      'h9',
      { userId: erin.id, purpose: 'enrol', passwordSecret: 'enc:pw', expiresAt: later(9e5) },
      t0,
    );
    const count = await accounts.reencryptSecrets((s) => s.replace('enc:', 'enc2:'));
    expect(count).toBeGreaterThanOrEqual(2);
    expect((await accounts.userById(erin.id))?.totpSecret).toBe('enc2:secret');
    expect((await accounts.claimLink('h9', later(1)))?.passwordSecret).toBe('enc2:pw');
  });

  it.skipIf(skip)('audit: filtered, newest first, paged, pruned by age', async () => {
    const audit = auditRepository(db);
    for (let i = 0; i < 5; i++) {
      await audit.append({
        at: later(i * 86_400_000),
        actor: i % 2 === 0 ? 'alice' : 'bob',
        ip: '127.0.0.1',
        action: i === 4 ? 'login' : 'anonymize',
        outcome: 'ok',
        target: null,
        detail: { faces: i, "'; DROP TABLE audit_log; --": true },
      });
    }
    const all = await audit.list({ limit: 10 });
    expect(all.map((e) => e.detail.faces)).toEqual([4, 3, 2, 1, 0]);
    expect((await audit.list({ limit: 10, actor: 'bob' })).map((e) => e.detail.faces)).toEqual([3, 1]);
    expect((await audit.list({ limit: 10, action: 'login' })).length).toBe(1);
    expect((await audit.list({ limit: 10, since: later(2 * 86_400_000) })).length).toBe(3);
    expect((await audit.list({ limit: 2, before: all[1]!.id })).map((e) => e.detail.faces)).toEqual([2, 1]);
    expect(await audit.prune(later(2 * 86_400_000))).toBe(2);
    expect((await audit.list({ limit: 10 })).length).toBe(3);
  });
});

describe('PGlite in a folder', () => {
  it('keeps its data across openings', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nestor-pglite-'));
    try {
      const first = await connect({ dataDir: dir });
      await first.exec('CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)');
      await first.close();
      const second = await connect({ dataDir: dir });
      expect(await second.query('SELECT x FROM kept')).toEqual([{ x: 7 }]);
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
