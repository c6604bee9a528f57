import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '@nestor/core';
import { openDatabase } from '@nestor/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccounts } from './accounts.ts';
import { runAdminCommand } from './cli.ts';
import { parseSecretKey } from './secrets.ts';

const BIN = fileURLToPath(new URL('../../bin/nestor-server.js', import.meta.url));

describe('nestor-server administration commands', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'nestor-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const run = async (...argv: string[]) => {
    const lines: string[] = [];
    const code = await runAdminCommand(argv, (line) => lines.push(line), { cwd: dir, env: {} });
    return { code, lines };
  };

  it('keygen, user create --admin (prints the one-time link), rotate-key', async () => {
    const keygen = await run('keygen');
    expect(keygen.code).toBe(0);
    await writeFile(path.join(dir, 'secret.key'), `${keygen.lines[0]}\n`);
    const config = { auth: { mode: 'accounts', secretKeyFile: 'secret.key' }, database: { dataDir: 'db' } };
    await writeFile(path.join(dir, 'nestor-ai-config.json'), JSON.stringify(config));

    const created = await run('user', 'create', 'ada', '--admin', '--base-url', 'https://nestor.example/');
    expect(created.code).toBe(0);
    expect(created.lines[0]).toMatch(/^Created admin "ada"\. Hand over this link; it opens once, until /);
    const link = created.lines[1]!;
    expect(link).toMatch(/^https:\/\/nestor\.example\/credentials\/#[A-Za-z0-9_-]{43}$/);
    await expect(run('user', 'create', 'ada')).rejects.toMatchObject({ code: 'E_CONFLICT' });
    await expect(run('user', 'create')).rejects.toMatchObject({ code: 'E_INVALID_OPTION' });

    const newKey = await run('keygen');
    await writeFile(path.join(dir, 'new.key'), newKey.lines[0]!);
    const rotated = await run('rotate-key', '--new-key-file', 'new.key');
    expect(rotated.lines[0]).toMatch(/^Re-encrypted 2 secrets from key [0-9a-f]{8} to key [0-9a-f]{8}\./);

    // Under the new key the unopened page opens, and shows a TOTP secret that decrypts.
    const db = await openDatabase({ dataDir: path.join(dir, 'db') });
    try {
      const accounts = createAccounts({
        db,
        key: parseSecretKey(newKey.lines[0]!, 'new'),
        config: parseConfig({ auth: { mode: 'accounts' } }),
      });
      const page = await accounts.claimCredentials(link.split('#')[1]!, { ip: '127.0.0.1' });
      expect(page.username).toBe('ada');
      expect(page.password).toHaveLength(24);
    } finally {
      await db.close();
    }
  });

  it('unknown commands are refused with the usage', async () => {
    await expect(run('frobnicate')).rejects.toThrow(/Unknown command "frobnicate"/);
    expect((await run('help')).lines[0]).toMatch(/^Account administration/);
    expect(await run()).toEqual({ code: undefined, lines: [] });
  });

  it('the server refuses a non-loopback host without accounts: exit code 2 and why', async () => {
    await writeFile(path.join(dir, 'none.json'), '{}');
    const child = spawn(process.execPath, [BIN], {
      cwd: dir,
      env: { PATH: process.env.PATH, NESTOR_CONFIG: path.join(dir, 'none.json'), NESTOR_HOST: '0.0.0.0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/E_INVALID_CONFIG: Refusing to listen on 0\.0\.0\.0 without accounts/);
  });
});
