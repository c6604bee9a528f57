import {
  type Config,
  type ErrorCode,
  isNestorError,
  type Nestor,
  NestorError,
  toNestorError,
} from '@nestor/core';
import { type Job, Queue, QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { HTTP_STATUS } from '../errors.ts';
import { runJob } from './process.ts';
import type { JobStorage } from './storage.ts';
import type { JobOutput, JobProgress, JobQueue, JobSpec, JobState, JobStatus } from './types.ts';

const QUEUE_NAME = 'jobs';

function connect(config: Config): Redis {
  if (!config.redis.url) throw new NestorError('E_INVALID_CONFIG', 'redis.url is not set');
  // BullMQ workers block on Redis: commands must wait for a reconnect rather than fail.
  return new Redis(config.redis.url, { maxRetriesPerRequest: null });
}

const STATE: Readonly<Record<string, JobState>> = {
  active: 'active',
  completed: 'completed',
  failed: 'failed',
};

/** A job's failure as stored by the worker: the Nestor code and message, as JSON. */
function parseFailure(reason: string | undefined): { code: ErrorCode; message: string } {
  try {
    const parsed = JSON.parse(reason ?? '') as { code: ErrorCode; message: string };
    if (parsed && typeof parsed.code === 'string') return parsed;
  } catch {
    // A reason BullMQ wrote itself (e.g. a job stalled too often) is not JSON.
  }
  return { code: 'E_INTERNAL', message: 'The job failed' };
}

/**
 * The queue at scale: jobs in Redis (BullMQ), run by `nestor worker` processes. A worker that
 * dies mid-job stops renewing its lock; another worker's stalled check puts the job back, and it
 * is retried up to `jobs.attempts` times. Inputs and results live in `jobs.storageDir`.
 */
export function createBullQueue(options: { config: Config; storage: JobStorage }): JobQueue {
  const { config, storage } = options;
  const connection = connect(config);
  const queue = new Queue(QUEUE_NAME, { connection, prefix: config.redis.prefix });
  let events: QueueEvents | undefined;
  let eventsConnection: Redis | undefined;
  const keepSeconds = config.retention.resultsSeconds + 3600;
  const sweeper = setInterval(
    () => {
      storage.sweep(config.retention.resultsSeconds).then(
        (ids) => Promise.all(ids.map((id) => queue.remove(id))),
        () => {},
      );
    },
    Math.min(60_000, Math.max(1000, config.retention.resultsSeconds * 500)),
  );
  sweeper.unref();

  return {
    kind: 'bullmq',
    async add(spec) {
      await queue.add(QUEUE_NAME, spec, {
        jobId: spec.id,
        attempts: config.jobs.attempts,
        backoff: { type: 'fixed', delay: 1000 },
        removeOnComplete: { age: keepSeconds },
        removeOnFail: { age: keepSeconds },
      });
    },
    async get(id) {
      const job = (await queue.getJob(id)) as Job<JobSpec, JobOutput> | undefined;
      if (!job) return undefined;
      const state = STATE[await job.getState()] ?? 'queued';
      const progress = (typeof job.progress === 'object' ? job.progress : { progress: 0 }) as JobProgress;
      const status: JobStatus = {
        id,
        kind: job.data.kind,
        state,
        progress: state === 'completed' ? 1 : progress.progress,
        ...(progress.etaSeconds !== undefined && state === 'active'
          ? { etaSeconds: progress.etaSeconds }
          : {}),
        ...(state === 'failed' ? { error: parseFailure(job.failedReason) } : {}),
        ...(state === 'completed' && job.returnvalue ? { output: job.returnvalue } : {}),
        ...(job.data.owner ? { owner: job.data.owner } : {}),
        attempts: job.attemptsMade + (state === 'active' ? 1 : 0),
      };
      return status;
    },
    async remove(id) {
      const job = await queue.getJob(id);
      if (!job) return false;
      await job.remove().catch(() => {
        // An active job is locked by its worker: it fails once its files are gone, and is then removed with them.
      });
      await storage.remove(id);
      return true;
    },
    async counts() {
      const c = await queue.getJobCounts(
        'waiting',
        'delayed',
        'prioritized',
        'active',
        'completed',
        'failed',
      );
      return {
        queued: (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0),
        active: c.active ?? 0,
        completed: c.completed ?? 0,
        failed: c.failed ?? 0,
      };
    },
    onFinished(listener) {
      // Workers run elsewhere: their completions reach the server through Redis' event stream.
      eventsConnection ??= connect(config);
      events ??= new QueueEvents(QUEUE_NAME, { connection: eventsConnection, prefix: config.redis.prefix });
      const report = async (jobId: string, state: 'completed' | 'failed') => {
        const job = (await queue.getJob(jobId)) as Job<JobSpec> | undefined;
        if (job?.processedOn && job.finishedOn)
          listener(job.data.kind, state, (job.finishedOn - job.processedOn) / 1000);
      };
      events.on('completed', ({ jobId }) => void report(jobId, 'completed').catch(() => {}));
      events.on('failed', ({ jobId }) => void report(jobId, 'failed').catch(() => {}));
    },
    async close() {
      clearInterval(sweeper);
      await events?.close();
      eventsConnection?.disconnect();
      await queue.close();
      connection.disconnect();
    },
  };
}

/**
 * A BullMQ worker (`nestor worker`): takes jobs from Redis and runs them on its own pipeline.
 * Input faults (4xx codes) fail at once; anything else is retried.
 */
export function startBullWorker(options: { config: Config; storage: JobStorage; nestor: Nestor }): {
  close(): Promise<void>;
} {
  const { config, storage, nestor } = options;
  const connection = connect(config);
  const worker = new Worker<JobSpec, JobOutput>(
    QUEUE_NAME,
    async (job) => {
      try {
        const output = await runJob(nestor, storage, job.data, (p) => {
          void job.updateProgress({ ...p });
        });
        await storage.markDone(job.data.id);
        return output;
      } catch (error) {
        const e = toNestorError(error);
        const reason = JSON.stringify(e.toJSON());
        if (isNestorError(error) && HTTP_STATUS[e.code] < 500) throw new UnrecoverableError(reason);
        throw new Error(reason);
      }
    },
    {
      connection,
      prefix: config.redis.prefix,
      concurrency: config.jobs.concurrency,
      // The lock is renewed every half interval; a killed worker's job is found stalled after one.
      lockDuration: config.jobs.stalledIntervalMs,
      stalledInterval: config.jobs.stalledIntervalMs,
      maxStalledCount: config.jobs.attempts,
    },
  );
  worker.on('failed', (job) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) void storage.markDone(job.data.id);
  });
  return {
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
