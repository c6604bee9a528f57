import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Config, NestorError } from '@nestor/core';
import { type Database, openDatabase } from '@nestor/db';
import { type Accounts, createAccounts } from './accounts.ts';
import { parseSecretKey, type SecretKey } from './secrets.ts';

/** Paths in the config are relative to the config file's folder (or the working directory). */
const fromConfig = (configFile: string | undefined, p: string) =>
  path.resolve(configFile ? path.dirname(configFile) : '.', p);

/** The secret key: `auth.secretKeyFile` (read here) or `auth.secretKey` (NESTOR_SECRET_KEY). */
export async function loadSecretKey(config: Config, configFile: string | undefined): Promise<SecretKey> {
  const { secretKeyFile, secretKey } = config.auth;
  if (secretKeyFile) {
    const file = fromConfig(configFile, secretKeyFile);
    const text = await readFile(file, 'utf8').catch((error: unknown) => {
      throw new NestorError('E_INVALID_CONFIG', `The secret key file ${file} cannot be read`, {
        cause: error,
      });
    });
    return parseSecretKey(text, file);
  }
  if (secretKey) return parseSecretKey(secretKey, 'auth.secretKey');
  throw new NestorError(
    'E_INVALID_CONFIG',
    'Accounts need a secret key: run `nestor-server keygen > secret.key` and set "auth": { "secretKeyFile": "secret.key" } (or NESTOR_SECRET_KEY)',
  );
}

/** The configured database, migrated: PostgreSQL when `database.url` is set, else PGlite in `database.dataDir`. */
export function openConfiguredDatabase(config: Config, configFile: string | undefined): Promise<Database> {
  const { url, dataDir } = config.database;
  if (url) return openDatabase({ url });
  return openDatabase({
    dataDir: dataDir.startsWith('memory://') ? dataDir : fromConfig(configFile, dataDir),
  });
}

export interface AccountsRuntime {
  readonly accounts: Accounts;
  readonly db: Database;
  readonly key: SecretKey;
  close(): Promise<void>;
}

/** Key, database and accounts for `auth.mode: "accounts"`; prunes the audit log now and daily. */
export async function openAccounts(config: Config, configFile: string | undefined): Promise<AccountsRuntime> {
  const key = await loadSecretKey(config, configFile);
  const db = await openConfiguredDatabase(config, configFile);
  const accounts = createAccounts({ db, key, config });
  let pruning = accounts.prune();
  const timer = setInterval(() => {
    pruning = pruning.then(() => accounts.prune());
  }, 86_400_000);
  timer.unref();
  try {
    await pruning;
  } catch (error) {
    clearInterval(timer);
    await db.close();
    throw error;
  }
  return {
    accounts,
    db,
    key,
    async close() {
      clearInterval(timer);
      await pruning;
      await db.close();
    },
  };
}
