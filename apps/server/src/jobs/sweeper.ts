import type { Config } from '@nestor/core';
import { type JobLog, logFields } from './log.ts';
import type { JobStorage } from './storage.ts';

/**
 * Deletes results nobody downloaded after `retention.resultsSeconds`, every few seconds until
 * stopped; `forget` then drops the deleted jobs from the queue. A failure is logged (code, message
 * and job id, never a path inside the job) and the next round tries again.
 */
export function startSweeper(options: {
  config: Config;
  storage: JobStorage;
  log: JobLog;
  forget: (ids: readonly string[]) => Promise<void>;
}): { stop(): void } {
  const { config, storage, log, forget } = options;
  let sweeping = false;
  const sweep = async () => {
    try {
      const { removed, failed } = await storage.sweep(config.retention.resultsSeconds);
      for (const { id, error } of failed)
        log.error({ job: id, ...logFields(error) }, 'expired job not deleted');
      await forget(removed);
    } catch (error) {
      log.error(logFields(error), 'job sweep failed');
    }
  };
  const timer = setInterval(
    () => {
      // A round slower than the interval is not overlapped by the next one.
      if (sweeping) return;
      sweeping = true;
      void sweep().finally(() => {
        sweeping = false;
      });
    },
    Math.min(60_000, Math.max(1000, config.retention.resultsSeconds * 500)),
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
