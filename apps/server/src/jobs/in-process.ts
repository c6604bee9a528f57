import { type Config, toNestorError } from '@nestor/core';
import type { RunJob } from './job-thread.ts';
import type { JobLog } from './log.ts';
import type { JobStorage } from './storage.ts';
import { startSweeper } from './sweeper.ts';
import type { JobQueue, JobSpec, JobState, JobStatus } from './types.ts';

interface Entry {
  spec: JobSpec;
  status: JobStatus;
  controller: AbortController;
  /** Settles once a started job has stopped touching its files. */
  stopped?: Promise<void>;
}

/**
 * The default queue: jobs run in this process, `jobs.concurrency` at a time, in arrival order.
 * A restart loses queued jobs (their files are swept); use Redis for jobs that must survive one.
 */
export function createInProcessQueue(options: {
  config: Config;
  storage: JobStorage;
  /** Runs one job to its output (in the job thread). */
  run: RunJob;
  /** Stops what `run` started. */
  closeRunner: () => Promise<void>;
  /** Where faults of the sweeper go. */
  log: JobLog;
}): JobQueue {
  const { config, storage } = options;
  const jobs = new Map<string, Entry>();
  const waiting: Entry[] = [];
  let running = 0;
  const listeners: ((kind: JobSpec['kind'], state: 'completed' | 'failed', seconds: number) => void)[] = [];
  const finished = (entry: Entry, state: 'completed' | 'failed', started: number) => {
    for (const listener of listeners) listener(entry.spec.kind, state, (performance.now() - started) / 1000);
  };
  const update = (entry: Entry, patch: Partial<JobStatus>) => {
    entry.status = { ...entry.status, ...patch };
  };

  const pump = () => {
    while (running < config.jobs.concurrency && waiting.length > 0) {
      const entry = waiting.shift()!;
      running++;
      update(entry, { state: 'active', attempts: 1 });
      const started = performance.now();
      entry.stopped = options
        .run(entry.spec, (p) => update(entry, p), entry.controller.signal)
        .then(
          async (output) => {
            await storage.markDone(entry.spec.id);
            update(entry, { state: 'completed', progress: 1, etaSeconds: 0, output });
            finished(entry, 'completed', started);
          },
          (error: unknown) => {
            const e = toNestorError(error);
            update(entry, { state: 'failed', error: e.toJSON() });
            // A cancelled job is not a failure worth counting.
            if (!entry.controller.signal.aborted) finished(entry, 'failed', started);
            return storage.markDone(entry.spec.id);
          },
        )
        // Only files of a job deleted meanwhile can fail here; a job still listed reports it.
        .catch((error: unknown) => {
          if (jobs.has(entry.spec.id))
            update(entry, { state: 'failed', error: toNestorError(error).toJSON() });
        })
        .finally(() => {
          running--;
          pump();
        });
    }
  };

  // Results nobody downloaded are deleted after retention.resultsSeconds.
  const sweeper = startSweeper({
    config,
    storage,
    log: options.log,
    forget: async (ids) => {
      for (const id of ids) jobs.delete(id);
    },
  });

  return {
    kind: 'in-process',
    async add(spec) {
      const entry: Entry = {
        spec,
        controller: new AbortController(),
        status: {
          id: spec.id,
          kind: spec.kind,
          state: 'queued',
          progress: 0,
          attempts: 0,
          ...(spec.owner ? { owner: spec.owner } : {}),
        },
      };
      jobs.set(spec.id, entry);
      waiting.push(entry);
      pump();
    },
    async get(id) {
      return jobs.get(id)?.status;
    },
    async remove(id) {
      const entry = jobs.get(id);
      if (!entry) return false;
      jobs.delete(id);
      const index = waiting.indexOf(entry);
      if (index >= 0) waiting.splice(index, 1);
      entry.controller.abort();
      // Removing the folder while the job thread still writes into it races (ENOTEMPTY).
      await entry.stopped;
      await storage.remove(id);
      return true;
    },
    async counts() {
      const counts: Record<JobState, number> = { queued: 0, active: 0, completed: 0, failed: 0 };
      for (const { status } of jobs.values()) counts[status.state]++;
      return counts;
    },
    onFinished(listener) {
      listeners.push(listener);
    },
    async close() {
      sweeper.stop();
      waiting.length = 0;
      for (const entry of jobs.values()) entry.controller.abort();
      await options.closeRunner();
      await storage.close();
    },
  };
}
