import type { ApiKeyScope, Role } from '@nestor/core';
import type { Row, Sql } from './database.ts';

export type { ApiKeyScope, Role };
export type LinkPurpose = 'enrol' | 'renewal';

export interface UserRecord {
  readonly id: string;
  readonly username: string;
  readonly role: Role;
  readonly createdAt: Date;
  readonly createdBy: string | null;
  readonly disabledAt: Date | null;
  readonly passwordHash: string;
  readonly totpSecret: string;
  readonly credentialsIssuedAt: Date;
  readonly credentialsExpireAt: Date;
  readonly lastTotpStep: number;
  readonly failedLogins: number;
  readonly lockedUntil: Date | null;
}

export interface NewUser {
  readonly id: string;
  readonly username: string;
  readonly role: Role;
  readonly createdAt: Date;
  readonly createdBy: string | null;
  readonly passwordHash: string;
  readonly totpSecret: string;
  readonly credentialsExpireAt: Date;
}

export interface NewCredentials {
  readonly passwordHash: string;
  readonly totpSecret: string;
  readonly issuedAt: Date;
  readonly expireAt: Date;
}

export interface CredentialLink {
  readonly userId: string;
  readonly purpose: LinkPurpose;
  readonly passwordSecret: string;
  readonly expiresAt: Date;
}

export interface ApiKeyRecord {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  readonly prefix: string;
  readonly scopes: readonly ApiKeyScope[];
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

/** A device token that has not expired: whose it is, and its failed sign-ins so far. */
export interface DeviceTokenRecord {
  readonly userId: string;
  readonly failedLogins: number;
}

export interface NewApiKey {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  readonly prefix: string;
  readonly keyHash: string;
  readonly scopes: readonly ApiKeyScope[];
  readonly createdAt: Date;
}

/** A row's failure count after one more failure (`$4` is now): 1 again once its lock has run out. */
const COUNT_AFTER_FAILURE = (row: string) =>
  `CASE WHEN ${row}.locked_until <= $4 THEN 1 ELSE ${row}.failed_logins + 1 END`;

const USER_COLUMNS = `id, username, role, created_at, created_by, disabled_at, password_hash, totp_secret,
  credentials_issued_at, credentials_expire_at, last_totp_step, failed_logins, locked_until`;

const toUser = (r: Row): UserRecord => ({
  id: r.id as string,
  username: r.username as string,
  role: r.role as Role,
  createdAt: r.created_at as Date,
  createdBy: (r.created_by as string | null) ?? null,
  disabledAt: (r.disabled_at as Date | null) ?? null,
  passwordHash: r.password_hash as string,
  totpSecret: r.totp_secret as string,
  credentialsIssuedAt: r.credentials_issued_at as Date,
  credentialsExpireAt: r.credentials_expire_at as Date,
  lastTotpStep: Number(r.last_totp_step),
  failedLogins: Number(r.failed_logins),
  lockedUntil: (r.locked_until as Date | null) ?? null,
});

const KEY_COLUMNS = 'id, user_id, name, prefix, scopes, created_at, last_used_at, revoked_at';

const toKey = (r: Row): ApiKeyRecord => ({
  id: r.id as string,
  userId: r.user_id as string,
  name: r.name as string,
  prefix: r.prefix as string,
  scopes: r.scopes as ApiKeyScope[],
  createdAt: r.created_at as Date,
  lastUsedAt: (r.last_used_at as Date | null) ?? null,
  revokedAt: (r.revoked_at as Date | null) ?? null,
});

/** What a change to an account did; `last-admin`: refused, as no enabled administrator would remain. */
export type AccountChange = 'done' | 'missing' | 'last-admin';

const outcome = (found: boolean): AccountChange => (found ? 'done' : 'missing');

/** Users, their credentials, sessions, API keys and one-time credential links. Times come from the caller. */
export function accountsRepository(db: Sql) {
  /**
   * Runs `change` on account `id` unless it is the last enabled admin. The enabled admins' rows are
   * locked first, in id order, so two admins demoting each other at once cannot both succeed.
   */
  const unlessLastAdmin = (id: string, change: (tx: Sql) => Promise<boolean>): Promise<AccountChange> =>
    db.transaction(async (tx) => {
      const admins = await tx.query(
        "SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id FOR UPDATE",
      );
      if (admins.length > 0 && admins.every((a) => a.id === id)) return 'last-admin';
      return outcome(await change(tx));
    });

  return {
    async countUsers(): Promise<number> {
      const [row] = await db.query('SELECT count(*)::int AS n FROM users');
      return Number(row?.n ?? 0);
    },

    async insertUser(user: NewUser): Promise<UserRecord> {
      const [row] = await db.query(
        `INSERT INTO users (id, username, role, created_at, created_by, password_hash, totp_secret,
           credentials_issued_at, credentials_expire_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $4, $8) RETURNING ${USER_COLUMNS}`,
        [
          user.id,
          user.username,
          user.role,
          user.createdAt,
          user.createdBy,
          user.passwordHash,
          user.totpSecret,
          user.credentialsExpireAt,
        ],
      );
      return toUser(row!);
    },

    async userByName(username: string): Promise<UserRecord | undefined> {
      const [row] = await db.query(`SELECT ${USER_COLUMNS} FROM users WHERE username = $1`, [username]);
      return row && toUser(row);
    },

    async userById(id: string): Promise<UserRecord | undefined> {
      const [row] = await db.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
      return row && toUser(row);
    },

    async listUsers(): Promise<UserRecord[]> {
      return (await db.query(`SELECT ${USER_COLUMNS} FROM users ORDER BY username`)).map(toUser);
    },

    async setRole(id: string, role: Role): Promise<AccountChange> {
      const set = async (tx: Sql) =>
        (await tx.query('UPDATE users SET role = $2 WHERE id = $1 RETURNING id', [id, role])).length > 0;
      return role === 'admin' ? outcome(await set(db)) : unlessLastAdmin(id, set);
    },

    /** Disabling ends every session and device token: re-enabling must not revive one issued before. */
    async setDisabled(id: string, at: Date | null): Promise<AccountChange> {
      const set = async (tx: Sql) => {
        const rows = await tx.query('UPDATE users SET disabled_at = $2 WHERE id = $1 RETURNING id', [id, at]);
        if (at !== null) {
          await tx.query('DELETE FROM sessions WHERE user_id = $1', [id]);
          await tx.query('DELETE FROM device_tokens WHERE user_id = $1', [id]);
        }
        return rows.length > 0;
      };
      return at === null ? outcome(await set(db)) : unlessLastAdmin(id, set);
    },

    async deleteUser(id: string): Promise<AccountChange> {
      return unlessLastAdmin(
        id,
        async (tx) => (await tx.query('DELETE FROM users WHERE id = $1 RETURNING id', [id])).length > 0,
      );
    },

    /**
     * Records a TOTP step as used, only if it is later than every step accepted before; false means
     * the code (or a later one) was already used.
     */
    async consumeTotpStep(id: string, step: number): Promise<boolean> {
      const rows = await db.query(
        'UPDATE users SET last_totp_step = $2 WHERE id = $1 AND last_totp_step < $2 RETURNING id',
        [id, step],
      );
      return rows.length > 0;
    },

    /**
     * One more failed login; locks the account until `lockUntil` when it reaches `maxFailures`. A
     * lock that ran out (before `at`) starts the count again: one mistake after it is not a new lock.
     */
    async recordFailure(
      id: string,
      maxFailures: number,
      lockUntil: Date,
      at: Date,
    ): Promise<UserRecord | undefined> {
      const [row] = await db.query(
        `UPDATE users SET failed_logins = ${COUNT_AFTER_FAILURE('users')},
           locked_until = CASE WHEN ${COUNT_AFTER_FAILURE('users')} >= $2 THEN $3::timestamptz
             WHEN users.locked_until <= $4 THEN NULL ELSE users.locked_until END
         WHERE id = $1 RETURNING ${USER_COLUMNS}`,
        [id, maxFailures, lockUntil, at],
      );
      return row && toUser(row);
    },

    /** When sign-ins under a name that is no account are locked (see `recordUnknownFailure`). */
    async unknownLoginLockedUntil(nameMac: string): Promise<Date | null> {
      const [row] = await db.query('SELECT locked_until FROM unknown_logins WHERE name_mac = $1', [nameMac]);
      return (row?.locked_until as Date | null | undefined) ?? null;
    },

    /** `recordFailure` for a name that is no account, so that both lock alike. */
    async recordUnknownFailure(
      nameMac: string,
      maxFailures: number,
      lockUntil: Date,
      at: Date,
    ): Promise<{ failedLogins: number; lockedUntil: Date | null }> {
      const [row] = await db.query(
        `INSERT INTO unknown_logins AS u (name_mac, failed_logins, locked_until, updated_at)
         VALUES ($1, 1, CASE WHEN $2::int <= 1 THEN $3::timestamptz END, $4)
         ON CONFLICT (name_mac) DO UPDATE SET failed_logins = ${COUNT_AFTER_FAILURE('u')},
           locked_until = CASE WHEN ${COUNT_AFTER_FAILURE('u')} >= $2::int THEN $3::timestamptz
             WHEN u.locked_until <= $4 THEN NULL ELSE u.locked_until END,
           updated_at = $4
         RETURNING failed_logins, locked_until`,
        [nameMac, maxFailures, lockUntil, at],
      );
      return {
        failedLogins: Number(row!.failed_logins),
        lockedUntil: (row!.locked_until as Date | null) ?? null,
      };
    },

    /** Replaces a hash by a stronger one of the same password, unless the credentials changed meanwhile. */
    async rehashPassword(id: string, oldHash: string, newHash: string): Promise<void> {
      await db.query('UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2', [
        id,
        oldHash,
        newHash,
      ]);
    },

    async clearFailures(id: string): Promise<void> {
      await db.query('UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1', [id]);
    },

    /**
     * New password and TOTP secret: the old ones stop working, and so do every session, device token and link. The
     * TOTP step resets: the new secret's codes have never been used.
     */
    async replaceCredentials(id: string, credentials: NewCredentials): Promise<void> {
      await db.transaction(async (tx) => {
        await tx.query(
          `UPDATE users SET password_hash = $2, totp_secret = $3, credentials_issued_at = $4,
             credentials_expire_at = $5, failed_logins = 0, locked_until = NULL,
             last_totp_step = 0
           WHERE id = $1`,
          [id, credentials.passwordHash, credentials.totpSecret, credentials.issuedAt, credentials.expireAt],
        );
        await tx.query('DELETE FROM sessions WHERE user_id = $1', [id]);
        await tx.query('DELETE FROM device_tokens WHERE user_id = $1', [id]);
        await tx.query('DELETE FROM credential_links WHERE user_id = $1', [id]);
      });
    },

    async insertLink(tokenHash: string, link: CredentialLink, createdAt: Date): Promise<void> {
      await db.query(
        `INSERT INTO credential_links (token_hash, user_id, purpose, password_secret, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [tokenHash, link.userId, link.purpose, link.passwordSecret, createdAt, link.expiresAt],
      );
    },

    /** Opens a link once: marks it used, erases the stored password and returns it; undefined if used or expired. */
    async claimLink(tokenHash: string, now: Date): Promise<CredentialLink | undefined> {
      return db.transaction(async (tx) => {
        const [row] = await tx.query(
          `SELECT user_id, purpose, password_secret, expires_at FROM credential_links
           WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 FOR UPDATE`,
          [tokenHash, now],
        );
        if (!row) return undefined;
        await tx.query(
          'UPDATE credential_links SET used_at = $2, password_secret = NULL WHERE token_hash = $1',
          [tokenHash, now],
        );
        return {
          userId: row.user_id as string,
          purpose: row.purpose as LinkPurpose,
          passwordSecret: row.password_secret as string,
          expiresAt: row.expires_at as Date,
        };
      });
    },

    async insertSession(idHash: string, userId: string, createdAt: Date, expiresAt: Date): Promise<void> {
      await db.query(
        'INSERT INTO sessions (id_hash, user_id, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $3)',
        [idHash, userId, createdAt, expiresAt],
      );
    },

    /** The user of a session that has not expired and was used after `idleSince`; marks it used `now`. */
    async sessionUser(idHash: string, now: Date, idleSince: Date): Promise<UserRecord | undefined> {
      const [session] = await db.query(
        `UPDATE sessions SET last_seen_at = $2
         WHERE id_hash = $1 AND expires_at > $2 AND last_seen_at > $3 RETURNING user_id`,
        [idHash, now, idleSince],
      );
      if (!session) return undefined;
      const [row] = await db.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [session.user_id]);
      return row && toUser(row);
    },

    async deleteSession(idHash: string): Promise<void> {
      await db.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
    },

    async insertDeviceToken(
      tokenHash: string,
      userId: string,
      createdAt: Date,
      expiresAt: Date,
    ): Promise<void> {
      await db.query(
        'INSERT INTO device_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)',
        [tokenHash, userId, createdAt, expiresAt],
      );
    },

    /** The device token with this hash if it has not expired; nothing is written. */
    async liveDeviceToken(tokenHash: string, now: Date): Promise<DeviceTokenRecord | undefined> {
      const [row] = await db.query(
        'SELECT user_id, failed_logins FROM device_tokens WHERE token_hash = $1 AND expires_at > $2',
        [tokenHash, now],
      );
      return row && { userId: row.user_id as string, failedLogins: Number(row.failed_logins) };
    },

    /** One more failed sign-in on a device; at `maxFailures` its token is revoked (deleted). */
    async recordDeviceFailure(
      tokenHash: string,
      maxFailures: number,
    ): Promise<{ failedLogins: number; revoked: boolean }> {
      return db.transaction(async (tx) => {
        const [row] = await tx.query(
          'UPDATE device_tokens SET failed_logins = failed_logins + 1 WHERE token_hash = $1 RETURNING failed_logins',
          [tokenHash],
        );
        // Gone meanwhile (revoked by a concurrent failure, a renewal or a disable): revoked all the same.
        const failedLogins = row ? Number(row.failed_logins) : maxFailures;
        const revoked = failedLogins >= maxFailures;
        if (revoked) await tx.query('DELETE FROM device_tokens WHERE token_hash = $1', [tokenHash]);
        return { failedLogins, revoked };
      });
    },

    async deleteDeviceToken(tokenHash: string): Promise<void> {
      await db.query('DELETE FROM device_tokens WHERE token_hash = $1', [tokenHash]);
    },

    async insertApiKey(key: NewApiKey): Promise<ApiKeyRecord> {
      const [row] = await db.query(
        `INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scopes, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${KEY_COLUMNS}`,
        [key.id, key.userId, key.name, key.prefix, key.keyHash, [...key.scopes], key.createdAt],
      );
      return toKey(row!);
    },

    /** The live (unrevoked) key with this hash and its owner; nothing is written. */
    async liveApiKey(keyHash: string): Promise<{ key: ApiKeyRecord; user: UserRecord } | undefined> {
      const [row] = await db.query(
        `SELECT ${KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
        [keyHash],
      );
      if (!row) return undefined;
      const key = toKey(row);
      const [owner] = await db.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [key.userId]);
      return owner && { key, user: toUser(owner) };
    },

    /** Records an accepted use of a key (a refused one is in the audit log, not here). */
    async touchApiKey(id: string, at: Date): Promise<void> {
      await db.query('UPDATE api_keys SET last_used_at = $2 WHERE id = $1', [id, at]);
    },

    /** Keys of one user, or of everyone when `userId` is undefined (admins). */
    async listApiKeys(userId: string | undefined): Promise<ApiKeyRecord[]> {
      const rows =
        userId === undefined
          ? await db.query(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`)
          : await db.query(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at, id`, [
              userId,
            ]);
      return rows.map(toKey);
    },

    async apiKeyById(id: string): Promise<ApiKeyRecord | undefined> {
      const [row] = await db.query(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = $1`, [id]);
      return row && toKey(row);
    },

    async revokeApiKey(id: string, at: Date): Promise<boolean> {
      const rows = await db.query(
        'UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id',
        [id, at],
      );
      return rows.length > 0;
    },

    /**
     * Re-encrypts every stored secret (TOTP secrets, unopened links' passwords) in one transaction:
     * `rotate-key` passes a function that decrypts with the old key and encrypts with the new one.
     */
    async reencryptSecrets(reencrypt: (secret: string) => string): Promise<number> {
      return db.transaction(async (tx) => {
        let count = 0;
        for (const row of await tx.query('SELECT id, totp_secret FROM users FOR UPDATE')) {
          await tx.query('UPDATE users SET totp_secret = $2 WHERE id = $1', [
            row.id,
            reencrypt(row.totp_secret as string),
          ]);
          count++;
        }
        const links = await tx.query(
          'SELECT token_hash, password_secret FROM credential_links WHERE password_secret IS NOT NULL FOR UPDATE',
        );
        for (const row of links) {
          await tx.query('UPDATE credential_links SET password_secret = $2 WHERE token_hash = $1', [
            row.token_hash,
            reencrypt(row.password_secret as string),
          ]);
          count++;
        }
        return count;
      });
    },

    /** Drops expired sessions, device tokens and links, and unknown names' failures a day old and no longer locked. */
    async pruneExpired(now: Date): Promise<void> {
      await db.query('DELETE FROM sessions WHERE expires_at <= $1', [now]);
      await db.query('DELETE FROM device_tokens WHERE expires_at <= $1', [now]);
      await db.query('DELETE FROM credential_links WHERE expires_at <= $1', [now]);
      await db.query(
        `DELETE FROM unknown_logins WHERE updated_at <= $1::timestamptz - interval '1 day'
           AND (locked_until IS NULL OR locked_until <= $1)`,
        [now],
      );
    },
  };
}

export type AccountsRepository = ReturnType<typeof accountsRepository>;
