import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Config, NestorError } from '@nestor/core';

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A missing file is an answer (undefined: a job not done, or deleted meanwhile); any other error is not. */
function unlessMissing(error: unknown): undefined {
  if ((error as { code?: unknown } | null)?.code === 'ENOENT') return undefined;
  throw error;
}

/**
 * Job files: `<root>/<id>/in/…` (uploads), `<root>/<id>/out/…` (result and detections.json),
 * `<root>/<id>/done` (written when the result is ready; its age drives the retention sweep).
 * Folders are private (0700). With Redis the root is `jobs.storageDir`, shared by server and
 * workers; otherwise a fresh folder under the system temp dir, deleted on close.
 */
export class JobStorage {
  private constructor(
    readonly root: string,
    private readonly owned: boolean,
  ) {}

  static fromConfig(config: Config): JobStorage {
    if (config.jobs.storageDir) {
      mkdirSync(config.jobs.storageDir, { recursive: true, mode: 0o700 });
      return new JobStorage(path.resolve(config.jobs.storageDir), false);
    }
    if (config.redis.url) {
      throw new NestorError(
        'E_INVALID_CONFIG',
        'jobs.storageDir must be set (a folder shared with the workers) when redis.url is',
      );
    }
    return new JobStorage(mkdtempSync(path.join(os.tmpdir(), 'nestor-jobs-')), true);
  }

  /** The storage a job thread opens on the folder its server created (not deleted on close). */
  static at(root: string): JobStorage {
    return new JobStorage(root, false);
  }

  static newId(): string {
    return randomUUID();
  }

  static isId(id: string): boolean {
    return ID.test(id);
  }

  dir(id: string): string {
    if (!JobStorage.isId(id)) throw new NestorError('E_NOT_FOUND', 'No such job');
    return path.join(this.root, id);
  }

  inputDir(id: string): string {
    return path.join(this.dir(id), 'in');
  }

  outputDir(id: string): string {
    return path.join(this.dir(id), 'out');
  }

  async create(id: string): Promise<void> {
    await mkdir(this.inputDir(id), { recursive: true, mode: 0o700 });
    await mkdir(this.outputDir(id), { recursive: true, mode: 0o700 });
  }

  async markDone(id: string): Promise<void> {
    await writeFile(path.join(this.dir(id), 'done'), '', { mode: 0o600 });
  }

  async remove(id: string): Promise<void> {
    // Retries cover a writer in another process (a BullMQ worker) adding a file mid-removal.
    await rm(this.dir(id), { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  }

  /**
   * Deletes the jobs whose result has been ready for `seconds` or more. A job that cannot be
   * deleted is reported in `failed` and the others are still swept; an unreadable root throws.
   */
  async sweep(seconds: number): Promise<{ removed: string[]; failed: { id: string; error: unknown }[] }> {
    const removed: string[] = [];
    const failed: { id: string; error: unknown }[] = [];
    for (const id of await readdir(this.root)) {
      if (!JobStorage.isId(id)) continue;
      try {
        const done = await stat(path.join(this.root, id, 'done')).catch(unlessMissing);
        if (done && Date.now() - done.mtimeMs >= seconds * 1000) {
          await this.remove(id);
          removed.push(id);
        }
      } catch (error) {
        failed.push({ id, error });
      }
    }
    return { removed, failed };
  }

  async close(): Promise<void> {
    if (this.owned) await rm(this.root, { recursive: true, force: true });
  }
}
