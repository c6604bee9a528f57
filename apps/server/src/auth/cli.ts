import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { NestorError } from '@nestor/core';
import { accountsRepository } from '@nestor/db';
import { loadConfig } from '@nestor/engine-node';
import { createAccounts } from './accounts.ts';
import { generateSecretKey, parseSecretKey } from './secrets.ts';
import { loadSecretKey, openConfiguredDatabase } from './setup.ts';

export const ADMIN_USAGE = `Account administration (auth.mode "accounts"):
  nestor-server user create <name> [--admin] [--base-url URL]
      create an account and print its one-time credentials link (15 minutes, opens once);
      the first admin is created this way
  nestor-server keygen
      print a new secret key (32 random bytes, base64) for auth.secretKeyFile
  nestor-server rotate-key --new-key-file FILE
      re-encrypt every stored secret under the key in FILE (the configured key is the old one),
      then point auth.secretKeyFile at FILE; sessions end (their CSRF tokens change)`;

/** Runs an administration command; undefined when `argv` is not one (then the server starts). */
export async function runAdminCommand(
  argv: readonly string[],
  out: (line: string) => void,
  where: ConfigLocation = {},
): Promise<number | undefined> {
  const [command, sub] = argv;
  if (command === 'keygen') {
    out(generateSecretKey());
    return 0;
  }
  if (command === 'user' && sub === 'create') return createUser(argv.slice(2), out, where);
  if (command === 'rotate-key') return rotateKey(argv.slice(1), out, where);
  if (command === 'help' || command === '--help' || command === '-h') {
    out(ADMIN_USAGE);
    return 0;
  }
  if (command !== undefined)
    throw new NestorError('E_INVALID_OPTION', `Unknown command "${command}"\n${ADMIN_USAGE}`);
  return undefined;
}

/** Where the config is looked for (tests point at a folder; the command uses the process's). */
export interface ConfigLocation {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

function flagValue(args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (!value || value.startsWith('--')) throw new NestorError('E_INVALID_OPTION', `${flag} needs a value`);
  return value;
}

async function createUser(
  args: readonly string[],
  out: (line: string) => void,
  where: ConfigLocation,
): Promise<number> {
  const baseUrlFlag = flagValue(args, '--base-url');
  const names = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--base-url');
  if (names.length !== 1) throw new NestorError('E_INVALID_OPTION', `Name one user\n${ADMIN_USAGE}`);
  const loaded = loadConfig(where);
  const { config } = loaded;
  const key = await loadSecretKey(config, loaded.file);
  const db = await openConfiguredDatabase(config, loaded.file);
  try {
    const accounts = createAccounts({ db, key, config });
    const { user, link } = await accounts.createUser(
      { username: names[0]!, role: args.includes('--admin') ? 'admin' : 'user' },
      { kind: 'local' },
      undefined,
    );
    const base = (baseUrlFlag ?? `http://${config.server.host}:${config.server.port}`).replace(/\/+$/, '');
    out(
      `Created ${user.role} "${user.username}". Hand over this link; it opens once, until ${link.expiresAt}:`,
    );
    out(`${base}${link.path}`);
    return 0;
  } finally {
    await db.close();
  }
}

async function rotateKey(
  args: readonly string[],
  out: (line: string) => void,
  where: ConfigLocation,
): Promise<number> {
  const file = flagValue(args, '--new-key-file');
  if (!file) throw new NestorError('E_INVALID_OPTION', `--new-key-file FILE is required\n${ADMIN_USAGE}`);
  const loaded = loadConfig(where);
  const oldKey = await loadSecretKey(loaded.config, loaded.file);
  const newKeyFile = path.resolve(where.cwd ?? '.', file);
  const newKey = parseSecretKey(await readFile(newKeyFile, 'utf8'), newKeyFile);
  if (newKey.id === oldKey.id) throw new NestorError('E_INVALID_OPTION', 'The new key is the configured key');
  const db = await openConfiguredDatabase(loaded.config, loaded.file);
  try {
    const count = await accountsRepository(db).reencryptSecrets((secret) =>
      newKey.encrypt(oldKey.decrypt(secret)),
    );
    out(
      `Re-encrypted ${count} secrets from key ${oldKey.id} to key ${newKey.id}. Now set auth.secretKeyFile to ${file} and restart.`,
    );
    return 0;
  } finally {
    await db.close();
  }
}
