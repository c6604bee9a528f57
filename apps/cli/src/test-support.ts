import { existsSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Io } from './main.ts';

/** The repository root (holds nestor-ai-config.json). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** ../shared/eval/dev beside the repository, when this machine has it. */
export const DEV_SET = path.resolve(REPO_ROOT, '../shared/eval/dev');
export const HAS_DEV_SET = existsSync(path.join(DEV_SET, 'annotations.json'));
export const SKIP_DEV_SET_REASON = `skipped: ${DEV_SET} is absent (clone the repository with ../shared beside it to run these)`;

/** An Io that records what the CLI writes. */
export function captureIo(cwd: string): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  return {
    stdout: sink((s) => {
      out += s;
    }),
    stderr: sink((s) => {
      err += s;
    }),
    cwd,
    out: () => out,
    err: () => err,
  };
}

/**
 * `captureIo` whose run can be interrupted as Ctrl-C does: `interrupt()` aborts the signal the
 * interruptible commands take. `stderrIsTTY` makes progress lines appear (as in a terminal).
 */
export function interruptibleIo(
  cwd: string,
  options: { stderrIsTTY?: boolean } = {},
): ReturnType<typeof captureIo> & { interrupt(): void; released: () => boolean } {
  const io = captureIo(cwd);
  const controller = new AbortController();
  let released = false;
  if (options.stderrIsTTY) Object.assign(io.stderr, { isTTY: true });
  return {
    ...io,
    interruptible: () => ({
      signal: controller.signal,
      release: () => {
        released = true;
      },
    }),
    interrupt: () => controller.abort(new DOMException('Interrupted', 'AbortError')),
    released: () => released,
  };
}
