import { parseConfig } from '@nestor/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createInProcessQueue } from './in-process.ts';
import { logFields } from './log.ts';
import { JobStorage } from './storage.ts';
import { recordingLog } from './test-support.ts';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Resolves once `check` holds (setTimeout stays real: only the sweeper's interval is faked). */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
  expect(await check()).toBe(true);
}

describe('the in-process sweeper', () => {
  it('logs a job it cannot delete (code, message, id; no path inside the job) and deletes it next round', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const config = parseConfig({ retention: { resultsSeconds: 0 } });
    const storage = JobStorage.fromConfig(config);
    const { log, entries } = recordingLog();
    const queue = createInProcessQueue({
      config,
      storage,
      run: async () => ({ fileName: 'anonymized.zip', mimeType: 'application/zip', bytes: 1 }),
      closeRunner: async () => {},
      log,
    });
    try {
      const id = JobStorage.newId();
      await storage.create(id);
      await queue.add({ id, kind: 'images', inputs: ['00000.jpg'], options: {} });
      await until(async () => (await queue.get(id))?.state === 'completed');
      const file = `${storage.inputDir(id)}/00000.jpg`;
      const denied = Object.assign(new Error(`EACCES: permission denied, unlink '${file}'`), {
        code: 'EACCES',
        syscall: 'unlink',
        path: file,
      });
      vi.spyOn(storage, 'remove').mockRejectedValueOnce(denied);

      vi.advanceTimersByTime(1000);
      await until(async () => entries.length > 0);
      expect(entries).toEqual([
        {
          fields: { job: id, code: 'EACCES', message: 'EACCES: permission denied' },
          message: 'expired job not deleted',
        },
      ]);
      expect(JSON.stringify(entries)).not.toContain(storage.root);
      expect((await queue.get(id))?.state).toBe('completed');

      vi.advanceTimersByTime(1000);
      await until(async () => (await queue.get(id)) === undefined);
      expect(entries).toHaveLength(1);
    } finally {
      await queue.close();
    }
  });
});

describe('logFields', () => {
  it.each([
    [
      'a file-system error loses its path',
      Object.assign(new Error("ENOTEMPTY: directory not empty, rmdir '/tmp/jobs/x/in'"), {
        code: 'ENOTEMPTY',
        syscall: 'rmdir',
      }),
      { code: 'ENOTEMPTY', message: 'ENOTEMPTY: directory not empty' },
    ],
    [
      'a connection error keeps its address',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), {
        code: 'ECONNREFUSED',
        syscall: 'connect',
      }),
      { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:6379' },
    ],
    ['an error without a code', new Error('boom'), { code: 'E_INTERNAL', message: 'boom' }],
    ['not an error', 'odd', { code: 'E_INTERNAL', message: 'odd' }],
  ])('%s', (_name, error, fields) => {
    expect(logFields(error)).toEqual(fields);
  });
});
