/**
 * Test helpers: a throwaway PostgreSQL server (Debian's binaries) and the list of databases every
 * storage test runs against. Only tests import this module.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Database } from './database.ts';
import { openDatabase } from './index.ts';

/** Debian's versioned server binaries (`/usr/lib/postgresql/15/bin` on bookworm), the newest there. */
const PG_BIN = findPostgresBin('/usr/lib/postgresql');

function findPostgresBin(root: string): string {
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(path.join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return path.join(root, versions[0] ?? '15', 'bin');
}

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string;
  /** A new empty database on this server, for one suite. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

/** Why a PostgreSQL server cannot be started here, or undefined when it can. */
export function postgresUnavailable(): string | undefined {
  if (!existsSync(path.join(PG_BIN, 'initdb')) || !existsSync(path.join(PG_BIN, 'postgres')))
    return `PostgreSQL binaries not found in ${PG_BIN} (apt-get install postgresql)`;
  if (process.getuid?.() === 0 && postgresUid() === undefined)
    return 'running as root, and there is no "postgres" user to run PostgreSQL as';
  return undefined;
}

function postgresUid(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    // `id` fails when the user does not exist: then there is nobody to run PostgreSQL as.
    return undefined;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** initdb and postgres refuse to run as root: as root they run as the "postgres" user. */
function asPostgresUser(command: string, args: string[]): [string, string[]] {
  const binary = path.join(PG_BIN, command);
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
}

function run(command: string, args: string[]): Promise<void> {
  const [file, argv] = asPostgresUser(command, args);
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${stderr.trim()}`)),
    );
  });
}

/**
 * Starts PostgreSQL on 127.0.0.1 and a free port with a fresh data folder (trust authentication,
 * no socket outside that folder). Call `stop()` in afterAll: it stops the server by its PID and
 * deletes the folder.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const unavailable = postgresUnavailable();
  if (unavailable) throw new Error(unavailable);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nestor-pg-'));
  const owner = process.getuid?.() === 0 ? postgresUid() : undefined;
  if (owner) chownSync(dir, owner.uid, owner.gid);
  let child: ChildProcess | undefined;
  try {
    await run('initdb', ['-D', dir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    const port = await freePort();
    const [file, argv] = asPostgresUser('postgres', [
      '-D',
      dir,
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'fsync=off',
      '-c',
      'full_page_writes=off',
    ]);
    // Its own process group, so stop() reaches postgres under runuser too.
    child = spawn(file, argv, { stdio: 'ignore', detached: true });
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    await waitUntilAccepting(url, child);
    const server = child;
    return {
      url,
      async createDatabase() {
        const name = `t_${randomBytes(6).toString('hex')}`;
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name}`);
        } finally {
          await client.end();
        }
        return url.replace(/\/postgres$/, `/${name}`);
      },
      async stop() {
        await stopServer(server, dir);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (child) await stopServer(child, dir);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function waitUntilAccepting(url: string, child: ChildProcess): Promise<void> {
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  for (let attempt = 0; attempt < 300; attempt++) {
    if (exited) throw new Error('postgres exited during start-up');
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      // Not accepting connections yet: close the half-open client and try again shortly.
      await client.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('postgres did not accept connections within 30 s');
}

/** SIGINT is PostgreSQL's "fast shutdown"; the postmaster's PID is in postmaster.pid. */
async function stopServer(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const postmaster = await readFile(path.join(dir, 'postmaster.pid'), 'utf8').then(
    (text) => Number(text.split('\n')[0]),
    () => undefined,
  );
  if (postmaster) process.kill(postmaster, 'SIGINT');
  else if (child.pid) process.kill(-child.pid, 'SIGINT');
  const timer = setTimeout(() => {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  }, 15_000);
  await exited;
  clearTimeout(timer);
}

export interface TestDatabaseKind {
  readonly name: 'pglite' | 'postgres';
  /** Why this kind is skipped here, or undefined. */
  readonly skip: string | undefined;
}

/** The databases every storage suite runs against: `describe.each(TEST_DATABASES)`. */
export const TEST_DATABASES: readonly TestDatabaseKind[] = [
  { name: 'pglite', skip: undefined },
  { name: 'postgres', skip: postgresUnavailable() },
];

/**
 * A migrated database of this kind for one suite: in-memory PGlite, or a new database on a
 * PostgreSQL server started for the suite. `close()` closes it and stops the server.
 */
export async function openTestDatabase(kind: TestDatabaseKind['name']): Promise<Database> {
  if (kind === 'pglite') return openDatabase({ dataDir: 'memory://' });
  const server = await startPostgres();
  try {
    const db = await openDatabase({ url: await server.createDatabase() });
    return {
      ...db,
      close: async () => {
        await db.close();
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
