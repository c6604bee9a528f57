import { randomUUID } from 'node:crypto';
import {
  type ApiKeyScope,
  type Config,
  type CredentialsLink,
  type IssuedCredentials,
  NestorError,
  type PublicApiKey,
  type PublicUser,
  type Role,
} from '@nestor/core';
import {
  type AccountChange,
  type AccountsRepository,
  type ApiKeyRecord,
  type AuditDetail,
  type AuditFilter,
  type AuditOutcome,
  type AuditRecord,
  type AuditRepository,
  accountsRepository,
  auditRepository,
  type LinkPurpose,
  type Sql,
  type UserRecord,
} from '@nestor/db';
import QRCode from 'qrcode';
import { generatePassword, hashPassword, needsRehash, verifyDecoy, verifyPassword } from './password.ts';
import { hashToken, randomToken, type SecretKey, sameString } from './secrets.ts';
import { generateTotpSecret, totpStep, totpUri } from './totp.ts';

export type { ApiKeyScope, CredentialsLink, IssuedCredentials, PublicApiKey, PublicUser, Role };
export const ROLES: readonly Role[] = ['admin', 'user'];
export const API_KEY_SCOPES: readonly ApiKeyScope[] = ['detect', 'anonymize', 'admin'];

/** Who a request acts as. */
export type Principal =
  | { readonly kind: 'local' }
  | { readonly kind: 'session'; readonly user: UserRecord; readonly sessionHash: string }
  | { readonly kind: 'key'; readonly user: UserRecord; readonly key: ApiKeyRecord };

export interface LoginResult {
  readonly user: PublicUser;
  readonly sessionId: string;
  readonly sessionExpiresAt: Date;
  readonly csrfToken: string;
  /** A new device cookie for this browser (the one it presented, if any, is revoked). */
  readonly deviceToken: string;
}

/** Where a request comes from, for the audit log and the limits. */
export interface RequestOrigin {
  readonly ip: string;
}

const USERNAME = /^[a-z0-9][a-z0-9._-]{1,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isUuid = (id: string) => UUID.test(id);
/** What `randomToken` makes: session ids, link and device tokens. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const KEY_PREFIX = 'nst_';
const KEY_SHAPE = /^nst_[A-Za-z0-9_-]{43}$/;
const WRONG_CREDENTIALS = 'Wrong username, password or code';
export const toPublicUser = (u: UserRecord): PublicUser => ({
  id: u.id,
  username: u.username,
  role: u.role,
  createdAt: u.createdAt.toISOString(),
  disabled: u.disabledAt !== null,
  credentialsExpireAt: u.credentialsExpireAt.toISOString(),
  lockedUntil: u.lockedUntil?.toISOString() ?? null,
});

export const toPublicKey = (k: ApiKeyRecord): PublicApiKey => ({
  id: k.id,
  userId: k.userId,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

/** `now` plus whole calendar months (the 31st becomes the month's last day). */
export function addMonths(now: Date, months: number): Date {
  const d = new Date(now.getTime());
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d;
}

export function parseUsername(value: string): string {
  if (!USERNAME.test(value)) {
    throw new NestorError(
      'E_INVALID_OPTION',
      'A username is 2 to 63 characters: lowercase letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  return value;
}

export interface AccountsOptions {
  readonly db: Sql;
  readonly key: SecretKey;
  readonly config: Pick<Config, 'auth' | 'retention' | 'features'>;
  /** The clock (tests jump months ahead). */
  readonly now?: () => Date;
}

/** Accounts, credentials, sessions, API keys and the audit log: the rules, without HTTP. */
export function createAccounts({ db, key, config, now = () => new Date() }: AccountsOptions) {
  const repo: AccountsRepository = accountsRepository(db);
  const auditLog: AuditRepository = auditRepository(db);
  const auth = config.auth;
  const minutes = (n: number) => n * 60_000;

  /** With pseudonymous audit, a username or IP becomes a keyed hash: linkable, not identifying. */
  const pseudonym = (value: string | null): string | null =>
    value === null || !config.retention.pseudonymousAudit
      ? value
      : `~${key.mac('pseudonym', value).slice(0, 16)}`;

  const actorOf = (principal: Principal | undefined): string | null => {
    if (!principal) return null;
    return principal.kind === 'local' ? 'local' : principal.user.username;
  };

  async function audit(
    action: string,
    outcome: AuditOutcome,
    entry: { actor: string | null; ip: string | null; target?: string | null; detail?: AuditDetail },
  ): Promise<void> {
    await auditLog.append({
      at: now(),
      actor: pseudonym(entry.actor),
      ip: pseudonym(entry.ip),
      action,
      outcome,
      target: pseudonym(entry.target ?? null),
      detail: entry.detail ?? {},
    });
  }

  async function newLink(userId: string, purpose: LinkPurpose, password: string): Promise<CredentialsLink> {
    const token = randomToken();
    const expiresAt = new Date(now().getTime() + minutes(auth.linkMinutes));
    await repo.insertLink(
      hashToken(token),
      { userId, purpose, passwordSecret: key.encrypt(password), expiresAt },
      now(),
    );
    return { token, path: `/credentials/#${token}`, expiresAt: expiresAt.toISOString() };
  }

  async function freshCredentials() {
    const password = generatePassword();
    const totpSecret = generateTotpSecret();
    const issuedAt = now();
    return {
      password,
      credentials: {
        passwordHash: await hashPassword(password),
        totpSecret: key.encrypt(totpSecret),
        issuedAt,
        expireAt: addMonths(issuedAt, auth.credentialsMonths),
      },
    };
  }

  async function createUser(
    input: { username: string; role: Role },
    by: Principal | undefined,
    origin: RequestOrigin | undefined,
  ): Promise<{ user: PublicUser; link: CredentialsLink }> {
    const username = parseUsername(input.username);
    if (await repo.userByName(username)) {
      await audit('user.create', 'refused', {
        actor: actorOf(by),
        ip: origin?.ip ?? null,
        target: username,
        detail: { code: 'E_CONFLICT' },
      });
      throw new NestorError('E_CONFLICT', `The username "${username}" is taken`);
    }
    const { password, credentials } = await freshCredentials();
    const user = await repo
      .insertUser({
        id: randomUUID(),
        username,
        role: input.role,
        createdAt: credentials.issuedAt,
        createdBy: by && by.kind !== 'local' ? by.user.id : null,
        passwordHash: credentials.passwordHash,
        totpSecret: credentials.totpSecret,
        credentialsExpireAt: credentials.expireAt,
      })
      .catch(async (error: unknown) => {
        // Two requests for one name at once: the unique index decides.
        if (await repo.userByName(username))
          throw new NestorError('E_CONFLICT', `The username "${username}" is taken`);
        throw error;
      });
    const link = await newLink(user.id, 'enrol', password);
    await audit(by ? 'user.create' : 'user.register', 'ok', {
      actor: actorOf(by) ?? username,
      ip: origin?.ip ?? null,
      target: username,
      detail: { role: input.role },
    });
    return { user: toPublicUser(user), link };
  }

  /** The first admin (CLI bootstrap) or any admin-made account. */
  async function bootstrapAdmin(username: string): Promise<{ user: PublicUser; link: CredentialsLink }> {
    return createUser({ username, role: 'admin' }, { kind: 'local' }, undefined);
  }

  async function claimCredentials(token: string, origin: RequestOrigin): Promise<IssuedCredentials> {
    const link = TOKEN.test(token) ? await repo.claimLink(hashToken(token), now()) : undefined;
    if (!link) {
      await audit('credentials.open', 'refused', { actor: null, ip: origin.ip });
      throw new NestorError(
        'E_NOT_FOUND',
        'This credentials link was already opened or has expired: ask an administrator for a new one',
      );
    }
    const user = await repo.userById(link.userId);
    if (!user) throw new NestorError('E_NOT_FOUND', 'This account no longer exists');
    const password = key.decrypt(link.passwordSecret);
    const totpSecret = key.decrypt(user.totpSecret);
    const otpauthUri = totpUri(totpSecret, user.username);
    const qrOptions = { errorCorrectionLevel: 'M', margin: 4, scale: 6 } as const;
    await audit('credentials.open', 'ok', {
      actor: user.username,
      ip: origin.ip,
      detail: { purpose: link.purpose },
    });
    return {
      username: user.username,
      password,
      totpSecret,
      otpauthUri,
      qr: {
        otpauth: await QRCode.toDataURL(otpauthUri, qrOptions),
        password: await QRCode.toDataURL(password, qrOptions),
      },
      credentialsExpireAt: user.credentialsExpireAt.toISOString(),
    };
  }

  function lockedError(until: Date): NestorError {
    const seconds = Math.max(1, Math.ceil((until.getTime() - now().getTime()) / 1000));
    const mins = Math.ceil(seconds / 60);
    return new NestorError(
      'E_LOCKED',
      `Too many failed sign-ins: this account is locked for ${mins} more minute${mins === 1 ? '' : 's'} (until ${until.toISOString().slice(11, 16)} UTC)`,
      { details: { retryAfterSeconds: seconds } },
    );
  }

  /** A renewal grant: valid for `linkMinutes`, and only while the expired credentials are the current ones. */
  const renewalMac = (user: UserRecord, expires: number) =>
    key.mac('renewal', `${user.id}.${expires}.${user.credentialsIssuedAt.getTime()}`);

  /**
   * A name that is no account answers as an account would, in about as much time: wrong credentials,
   * then locked after as many failures (counted under a keyed hash of the name).
   */
  async function refuseUnknown(
    input: { username: string; password: string },
    origin: RequestOrigin,
    at: Date,
  ): Promise<never> {
    const nameMac = key.mac('unknown-login', input.username);
    const lockedUntil = await repo.unknownLoginLockedUntil(nameMac);
    // The attempted name is not recorded: people type passwords into the username field.
    if (lockedUntil && lockedUntil > at) {
      await audit('login', 'refused', { actor: null, ip: origin.ip, detail: { code: 'E_LOCKED' } });
      throw lockedError(lockedUntil);
    }
    await verifyDecoy(input.password);
    const after = await repo.recordUnknownFailure(
      nameMac,
      auth.lockoutFailures,
      new Date(at.getTime() + minutes(auth.lockoutMinutes)),
      at,
    );
    const locked = after.lockedUntil && after.lockedUntil > at ? after.lockedUntil : undefined;
    await audit('login', 'refused', {
      actor: null,
      ip: origin.ip,
      detail: { reason: 'unknown user', failures: after.failedLogins, locked: locked !== undefined },
    });
    if (locked) throw lockedError(locked);
    throw new NestorError('E_UNAUTHENTICATED', WRONG_CREDENTIALS);
  }

  const wrongCredentials = (reason: string) =>
    new NestorError(
      'E_UNAUTHENTICATED',
      reason === 'code replayed' ? 'This code was already used: wait for the next one' : WRONG_CREDENTIALS,
    );

  /**
   * Signs in with password and TOTP code. `deviceToken` is the browser's device cookie: when it is
   * this account's (OWASP's device cookies), the attempt counts on that device's failures, which
   * revoke it at `lockoutFailures`, and the account's lockout, which anyone knowing the name can
   * cause, does not refuse it. Without one (or with a forged, expired or other account's), nothing
   * changes.
   */
  async function login(
    input: { username: string; password: string; code: string },
    origin: RequestOrigin,
    deviceToken?: string,
  ): Promise<LoginResult> {
    const at = now();
    // Looked up before the name and whatever the name: a device cookie must not tell known names apart.
    const deviceHash =
      deviceToken !== undefined && TOKEN.test(deviceToken) ? hashToken(deviceToken) : undefined;
    const device = deviceHash === undefined ? undefined : await repo.liveDeviceToken(deviceHash, at);
    const user = USERNAME.test(input.username) ? await repo.userByName(input.username) : undefined;
    if (!user) return refuseUnknown(input, origin, at);
    const knownDevice = device?.userId === user.id ? deviceHash : undefined;
    const accountLocked = user.lockedUntil && user.lockedUntil > at ? user.lockedUntil : undefined;
    if (accountLocked && !knownDevice) {
      await audit('login', 'refused', { actor: user.username, ip: origin.ip, detail: { code: 'E_LOCKED' } });
      throw lockedError(accountLocked);
    }
    const passwordOk = await verifyPassword(user.passwordHash, input.password);
    const step = passwordOk ? totpStep(key.decrypt(user.totpSecret), input.code, at) : undefined;
    const fresh = step !== undefined && (await repo.consumeTotpStep(user.id, step));
    if (!fresh) {
      const reason = !passwordOk ? 'password' : step === undefined ? 'code' : 'code replayed';
      if (knownDevice) {
        const failed = await repo.recordDeviceFailure(knownDevice, auth.lockoutFailures);
        await audit('login', 'refused', {
          actor: user.username,
          ip: origin.ip,
          detail: { reason, via: 'device', failures: failed.failedLogins, revoked: failed.revoked },
        });
        // Revoked: from now on this browser is any other, and the account's lockout holds it too.
        if (failed.revoked && accountLocked) throw lockedError(accountLocked);
        throw wrongCredentials(reason);
      }
      const after = await repo.recordFailure(
        user.id,
        auth.lockoutFailures,
        new Date(at.getTime() + minutes(auth.lockoutMinutes)),
        at,
      );
      const locked = after?.lockedUntil && after.lockedUntil > at ? after.lockedUntil : undefined;
      await audit('login', 'refused', {
        actor: user.username,
        ip: origin.ip,
        detail: { reason, failures: after?.failedLogins ?? 0, locked: locked !== undefined },
      });
      if (locked) throw lockedError(locked);
      throw wrongCredentials(reason);
    }
    // The account's failures are strangers' as much as the owner's: a sign-in on a known device keeps them.
    if (!knownDevice) await repo.clearFailures(user.id);
    if (needsRehash(user.passwordHash))
      await repo.rehashPassword(user.id, user.passwordHash, await hashPassword(input.password));
    if (user.disabledAt) {
      await audit('login', 'refused', {
        actor: user.username,
        ip: origin.ip,
        detail: { code: 'E_FORBIDDEN' },
      });
      throw new NestorError('E_FORBIDDEN', 'This account is disabled');
    }
    if (user.credentialsExpireAt <= at) {
      await audit('login', 'refused', {
        actor: user.username,
        ip: origin.ip,
        detail: { code: 'E_CREDENTIALS_EXPIRED' },
      });
      const expires = at.getTime() + minutes(auth.linkMinutes);
      throw new NestorError(
        'E_CREDENTIALS_EXPIRED',
        'Your password and 2FA code have expired (they last ' +
          auth.credentialsMonths +
          ' months): renew them now',
        {
          details: {
            renewalGrant: `${user.id}.${expires}.${renewalMac(user, expires)}`,
            renewalExpiresAt: new Date(expires).toISOString(),
          },
        },
      );
    }
    const sessionId = randomToken();
    const sessionHash = hashToken(sessionId);
    const sessionExpiresAt = new Date(at.getTime() + auth.sessionHours * 3_600_000);
    await repo.insertSession(sessionHash, user.id, at, sessionExpiresAt);
    // A new device token at each sign-in: the browser keeps one cookie, so the one it sent is dropped.
    if (device && deviceHash) await repo.deleteDeviceToken(deviceHash);
    const newDeviceToken = randomToken();
    const deviceExpiresAt = new Date(at.getTime() + auth.deviceCookieDays * 86_400_000);
    await repo.insertDeviceToken(hashToken(newDeviceToken), user.id, at, deviceExpiresAt);
    await audit('login', 'ok', {
      actor: user.username,
      ip: origin.ip,
      detail: knownDevice ? { via: 'device', ...(accountLocked ? { accountLocked: true } : {}) } : {},
    });
    return {
      user: toPublicUser(user),
      sessionId,
      sessionExpiresAt,
      csrfToken: csrfToken(sessionHash),
      deviceToken: newDeviceToken,
    };
  }

  /** Replaces expired credentials: the old ones stop working at once; the new ones are shown once. */
  async function renew(grant: string, origin: RequestOrigin): Promise<CredentialsLink> {
    const [userId = '', expiresText = '', mac = ''] = grant.split('.');
    const expires = Number(expiresText);
    const user = isUuid(userId) ? await repo.userById(userId) : undefined;
    const valid =
      user !== undefined &&
      user.disabledAt === null &&
      Number.isFinite(expires) &&
      expires > now().getTime() &&
      sameString(mac, renewalMac(user, expires));
    if (!valid || !user) {
      await audit('credentials.renew', 'refused', { actor: user?.username ?? null, ip: origin.ip });
      throw new NestorError('E_UNAUTHENTICATED', 'Sign in again with your expired credentials to renew them');
    }
    const { password, credentials } = await freshCredentials();
    await repo.replaceCredentials(user.id, credentials);
    const link = await newLink(user.id, 'renewal', password);
    await audit('credentials.renew', 'ok', { actor: user.username, ip: origin.ip });
    return link;
  }

  /** An admin gives a user new credentials (lost phone, never-opened link). */
  async function resetCredentials(
    id: string,
    by: Principal,
    origin: RequestOrigin,
  ): Promise<CredentialsLink> {
    const user = isUuid(id) ? await repo.userById(id) : undefined;
    if (!user) throw new NestorError('E_NOT_FOUND', 'No such user');
    const { password, credentials } = await freshCredentials();
    await repo.replaceCredentials(user.id, credentials);
    const link = await newLink(user.id, 'renewal', password);
    await audit('user.reset', 'ok', { actor: actorOf(by), ip: origin.ip, target: user.username });
    return link;
  }

  function csrfToken(sessionHash: string): string {
    return key.mac('csrf', sessionHash);
  }

  async function sessionPrincipal(sessionId: string): Promise<Principal | undefined> {
    if (!TOKEN.test(sessionId)) return undefined;
    const sessionHash = hashToken(sessionId);
    const at = now();
    const user = await repo.sessionUser(
      sessionHash,
      at,
      new Date(at.getTime() - minutes(auth.sessionIdleMinutes)),
    );
    return user && { kind: 'session', user, sessionHash };
  }

  async function keyPrincipal(bearer: string): Promise<Principal | undefined> {
    if (!KEY_SHAPE.test(bearer)) return undefined;
    const found = await repo.liveApiKey(hashToken(bearer));
    return found && { kind: 'key', user: found.user, key: found.key };
  }

  /** Called once a key's request passed every check: a refused use does not count as a use. */
  async function recordKeyUse(principal: Principal): Promise<void> {
    if (principal.kind === 'key') await repo.touchApiKey(principal.key.id, now());
  }

  async function logout(principal: Principal, origin: RequestOrigin): Promise<void> {
    if (principal.kind !== 'session') return;
    await repo.deleteSession(principal.sessionHash);
    await audit('logout', 'ok', { actor: principal.user.username, ip: origin.ip });
  }

  const ownerId = (principal: Principal): string | undefined =>
    principal.kind === 'local' ? undefined : principal.user.id;
  const isAdmin = (principal: Principal) => principal.kind === 'local' || principal.user.role === 'admin';

  async function createKey(
    principal: Principal,
    input: { name: string; scopes: readonly ApiKeyScope[] },
    origin: RequestOrigin,
  ): Promise<{ key: string; apiKey: PublicApiKey }> {
    const userId = ownerId(principal);
    if (!userId)
      throw new NestorError('E_FORBIDDEN', 'API keys belong to accounts: there are none in local mode');
    if (input.scopes.includes('admin') && !isAdmin(principal)) {
      await audit('key.create', 'refused', {
        actor: actorOf(principal),
        ip: origin.ip,
        detail: { scope: 'admin' },
      });
      throw new NestorError('E_FORBIDDEN', 'Only administrators may create keys with the admin scope');
    }
    const secret = `${KEY_PREFIX}${randomToken()}`;
    const record = await repo.insertApiKey({
      id: randomUUID(),
      userId,
      name: input.name,
      prefix: secret.slice(0, 12),
      keyHash: hashToken(secret),
      scopes: [...new Set(input.scopes)],
      createdAt: now(),
    });
    await audit('key.create', 'ok', {
      actor: actorOf(principal),
      ip: origin.ip,
      detail: { scopes: record.scopes.join(',') },
    });
    return { key: secret, apiKey: toPublicKey(record) };
  }

  /** Own keys; an admin may name another user (`userId`) or all (`'all'`). */
  async function listKeys(principal: Principal, of?: string): Promise<PublicApiKey[]> {
    if (of !== undefined && !isAdmin(principal))
      throw new NestorError('E_FORBIDDEN', 'Only administrators list the keys of others');
    if (of !== undefined && of !== 'all' && !isUuid(of)) throw new NestorError('E_NOT_FOUND', 'No such user');
    const userId = of === 'all' ? undefined : (of ?? ownerId(principal));
    return (await repo.listApiKeys(userId)).map(toPublicKey);
  }

  async function revokeKey(principal: Principal, id: string, origin: RequestOrigin): Promise<void> {
    const record = isUuid(id) ? await repo.apiKeyById(id) : undefined;
    // Someone else's key answers like a missing one: its existence is not confirmed.
    if (!record || (!isAdmin(principal) && record.userId !== ownerId(principal))) {
      await audit('key.revoke', 'refused', { actor: actorOf(principal), ip: origin.ip });
      throw new NestorError('E_NOT_FOUND', 'No such API key');
    }
    await repo.revokeApiKey(record.id, now());
    await audit('key.revoke', 'ok', {
      actor: actorOf(principal),
      ip: origin.ip,
      detail: { prefix: record.prefix },
    });
  }

  async function listUsers(): Promise<PublicUser[]> {
    return (await repo.listUsers()).map(toPublicUser);
  }

  /** Refuses (and audits) a change that would leave no enabled administrator. */
  async function keepAnAdmin(
    result: AccountChange,
    action: string,
    principal: Principal,
    user: UserRecord,
    origin: RequestOrigin,
  ): Promise<void> {
    if (result !== 'last-admin') return;
    await audit(action, 'refused', {
      actor: actorOf(principal),
      ip: origin.ip,
      target: user.username,
      detail: { code: 'E_FORBIDDEN', reason: 'last admin' },
    });
    throw new NestorError(
      'E_FORBIDDEN',
      'This is the last enabled administrator: make another account an administrator first',
    );
  }

  async function updateUser(
    principal: Principal,
    id: string,
    change: { role?: Role; disabled?: boolean },
    origin: RequestOrigin,
  ): Promise<PublicUser> {
    const user = isUuid(id) ? await repo.userById(id) : undefined;
    if (!user) throw new NestorError('E_NOT_FOUND', 'No such user');
    if (ownerId(principal) === user.id && (change.role === 'user' || change.disabled === true)) {
      throw new NestorError(
        'E_FORBIDDEN',
        'You cannot demote or disable yourself: ask another administrator',
      );
    }
    if (change.role !== undefined)
      await keepAnAdmin(await repo.setRole(user.id, change.role), 'user.update', principal, user, origin);
    if (change.disabled !== undefined) {
      const result = await repo.setDisabled(user.id, change.disabled ? now() : null);
      await keepAnAdmin(result, 'user.update', principal, user, origin);
    }
    if (change.disabled === false) await repo.clearFailures(user.id);
    await audit('user.update', 'ok', {
      actor: actorOf(principal),
      ip: origin.ip,
      target: user.username,
      detail: {
        ...(change.role ? { role: change.role } : {}),
        ...(change.disabled !== undefined ? { disabled: change.disabled } : {}),
      },
    });
    return toPublicUser((await repo.userById(user.id))!);
  }

  async function deleteUser(principal: Principal, id: string, origin: RequestOrigin): Promise<void> {
    const user = isUuid(id) ? await repo.userById(id) : undefined;
    if (!user) throw new NestorError('E_NOT_FOUND', 'No such user');
    if (ownerId(principal) === user.id) throw new NestorError('E_FORBIDDEN', 'You cannot delete yourself');
    await keepAnAdmin(await repo.deleteUser(user.id), 'user.delete', principal, user, origin);
    await audit('user.delete', 'ok', { actor: actorOf(principal), ip: origin.ip, target: user.username });
  }

  /** Audit entries, newest first; an actor filter names the user, pseudonymised as stored. */
  async function listAudit(filter: AuditFilter): Promise<AuditRecord[]> {
    return auditLog.list(
      filter.actor === undefined ? filter : { ...filter, actor: pseudonym(filter.actor)! },
    );
  }

  /** Deletes audit entries older than `retention.auditDays`, and expired sessions and links. */
  async function prune(): Promise<number> {
    await repo.pruneExpired(now());
    return auditLog.prune(new Date(now().getTime() - config.retention.auditDays * 86_400_000));
  }

  return {
    now,
    audit,
    actorOf,
    createUser,
    bootstrapAdmin,
    claimCredentials,
    login,
    renew,
    resetCredentials,
    csrfToken,
    sessionPrincipal,
    keyPrincipal,
    recordKeyUse,
    logout,
    createKey,
    listKeys,
    revokeKey,
    listUsers,
    updateUser,
    deleteUser,
    listAudit,
    prune,
    countUsers: () => repo.countUsers(),
  };
}

export type Accounts = ReturnType<typeof createAccounts>;
