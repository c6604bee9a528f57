import { spawn } from 'node:child_process';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** apps/web */
export const WEB_DIR = fileURLToPath(new URL('../../', import.meta.url));
export const OUT_DIR = join(WEB_DIR, 'out');
/** Written after a successful build: its time is the build's. */
const STAMP = join(OUT_DIR, '.nestor-build');
const REPO = join(WEB_DIR, '../..');

/** What the static app is built from (tests and e2e helpers excluded). */
const SOURCES = [
  join(WEB_DIR, 'src'),
  join(WEB_DIR, 'public'),
  join(WEB_DIR, 'next.config.ts'),
  join(WEB_DIR, 'postcss.config.mjs'),
  join(WEB_DIR, 'package.json'),
  join(REPO, 'packages/core/src'),
  join(REPO, 'packages/sdk/src'),
  join(REPO, 'packages/engine-web/src'),
];
const IGNORED = (name: string) => name.endsWith('.test.ts') || name === 'e2e' || name === 'build';

async function newestMtime(path: string): Promise<number> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  if (!info.isDirectory()) return info.mtimeMs;
  const entries = await readdir(path);
  const times = await Promise.all(entries.filter((e) => !IGNORED(e)).map((e) => newestMtime(join(path, e))));
  return Math.max(0, ...times);
}

/** True when `out/` is missing or older than one of its sources. */
export async function isBuildStale(): Promise<boolean> {
  const built = await newestMtime(STAMP);
  if (built === 0) return true;
  const sources = await Promise.all(SOURCES.map(newestMtime));
  return Math.max(...sources) > built;
}

/** Runs `next build` (telemetry off), then stamps `out/`. */
export async function buildWeb(log: (line: string) => void = () => {}): Promise<void> {
  const next = createRequire(join(WEB_DIR, 'package.json')).resolve('next/dist/bin/next');
  log('building the web app (apps/web → apps/web/out)…');
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [next, 'build'], {
      cwd: WEB_DIR,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`next build failed (exit ${String(code)})`);
  await writeFile(STAMP, `${new Date().toISOString()}\n`);
}

/** Held while one process builds: test files run in parallel and must not build into one folder at once. */
const LOCK = join(WEB_DIR, '.build-lock');
/** A lock older than this was left by a killed build. */
const STALE_LOCK_MS = 15 * 60_000;

async function withBuildLock<T>(work: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const held = await stat(LOCK).then(
        (info) => Date.now() - info.mtimeMs,
        () => 0,
      );
      if (held > STALE_LOCK_MS) await rm(LOCK, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await work();
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}

/** Builds the web app when it is missing or stale; a fast no-op otherwise. */
export async function ensureWebBuild(log: (line: string) => void = () => {}): Promise<boolean> {
  if (!(await isBuildStale())) return false;
  return withBuildLock(async () => {
    // Another process may have built it while this one waited.
    if (!(await isBuildStale())) return false;
    await buildWeb(log);
    return true;
  });
}
