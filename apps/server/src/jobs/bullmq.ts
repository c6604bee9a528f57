import { setTimeout as sleep } from 'node:timers/promises';
import { type Config, isNestorError, type Nestor, NestorError, toNestorError } from '@nestor/core';
import { type Job, Queue, QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { HTTP_STATUS, type PublicError, publicError } from '../errors.ts';
import type { RunJob } from './job-thread.ts';
import { type JobLog, logFields } from './log.ts';
import { runJob } from './process.ts';
import type { JobStorage } from './storage.ts';
import { startSweeper } from './sweeper.ts';
import type { JobOutput, JobProgress, JobQueue, JobSpec, JobState, JobStatus } from './types.ts';

const QUEUE_NAME = 'jobs';
/** The failure reason of a cancelled job: nothing to show, count or retry. */
const CANCELLED = 'cancelled';
/** How long a cancel waits for the job's worker to let go: a live worker stops within a moment. */
const CANCEL_WAIT_MS = 5000;

/** Set on cancel, so that a worker which takes the job later (or missed the message) refuses it. */
const cancelKey = (config: Config, id: string) => `${config.redis.prefix}:cancelled:${id}`;
/** Where cancels are announced: the worker running the job aborts it. */
const cancelChannel = (config: Config) => `${config.redis.prefix}:cancel`;

function connect(config: Config): Redis {
  if (!config.redis.url) throw new NestorError('E_INVALID_CONFIG', 'redis.url is not set');
  // BullMQ workers block on Redis: commands must wait for a reconnect rather than fail.
  return new Redis(config.redis.url, { maxRetriesPerRequest: null });
}

/** How long a close waits for Redis before it gives up on a clean goodbye. */
const CLOSE_WAIT_MS = 5000;

/**
 * Waits for a BullMQ close, at most `CLOSE_WAIT_MS`. Closed while ioredis is reconnecting (Redis
 * just restarted), BullMQ waits for an 'end' event that never comes: shutdown would hang forever.
 * Nothing is left running then (no socket, no reconnect timer), so giving up is safe.
 * @returns false when the close did not finish in time
 */
async function closeWithin(closing: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), CLOSE_WAIT_MS);
  });
  try {
    return await Promise.race([closing.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

const STATE: Readonly<Record<string, JobState>> = {
  active: 'active',
  completed: 'completed',
  failed: 'failed',
};

/** The JSON a worker stored as a job's failure reason, if it is JSON. */
function parseReason(reason: string | undefined): unknown {
  try {
    return JSON.parse(reason ?? '');
  } catch {
    // A reason BullMQ wrote itself (e.g. a job stalled too often) is not JSON.
    return undefined;
  }
}

/**
 * A job's failure as clients see it. The worker stores the Nestor error as JSON (`toJSON`);
 * `publicError` keeps only the generic text of a 5xx code, and anything else is an internal error.
 */
function publicFailure(reason: string | undefined): PublicError {
  const { code, message, details } = (parseReason(reason) ?? {}) as {
    code?: unknown;
    message?: unknown;
    details?: unknown;
  };
  return typeof code === 'string' && typeof message === 'string'
    ? publicError({ code, message, details })
    : publicError({ code: 'E_INTERNAL', message: '' });
}

/**
 * The queue at scale: jobs in Redis (BullMQ), run by `nestor worker` processes. A worker that
 * dies mid-job stops renewing its lock; another worker's stalled check puts the job back, and it
 * is retried up to `jobs.attempts` times. Inputs and results live in `jobs.storageDir`.
 */
export function createBullQueue(options: { config: Config; storage: JobStorage; log: JobLog }): JobQueue {
  const { config, storage, log } = options;
  const connection = connect(config);
  const queue = new Queue(QUEUE_NAME, { connection, prefix: config.redis.prefix });
  // Without a listener an 'error' (Redis gone for a moment) is unhandled; commands wait for the reconnect.
  queue.on('error', (error) => log.error(logFields(error), 'job queue: Redis error'));
  let events: QueueEvents | undefined;
  const keepSeconds = config.retention.resultsSeconds + 3600;
  const sweeper = startSweeper({
    config,
    storage,
    log,
    forget: async (ids) => {
      await Promise.all(ids.map((id) => queue.remove(id)));
    },
  });

  /** Tells the worker running a job to abort it, and waits for it to let go (as the in-process queue does). */
  const cancelActive = async (id: string) => {
    await connection.set(cancelKey(config, id), '1', 'EX', keepSeconds);
    await connection.publish(cancelChannel(config), id);
    const deadline = Date.now() + CANCEL_WAIT_MS;
    // A worker that died keeps the lock until it expires; the cancel mark answers for the job meanwhile.
    while ((await queue.remove(id)) === 0 && Date.now() < deadline) await sleep(50);
  };

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
      const [job, cancelled] = await Promise.all([
        queue.getJob(id) as Promise<Job<JobSpec, JobOutput> | undefined>,
        connection.exists(cancelKey(config, id)),
      ]);
      // A cancelled job whose worker has not let go of it yet is gone for clients already.
      if (!job || cancelled) return undefined;
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
        ...(state === 'failed' ? { error: publicFailure(job.failedReason) } : {}),
        ...(state === 'completed' && job.returnvalue ? { output: job.returnvalue } : {}),
        ...(job.data.owner ? { owner: job.data.owner } : {}),
        attempts: job.attemptsMade + (state === 'active' ? 1 : 0),
      };
      return status;
    },
    async remove(id) {
      if (!(await queue.getJob(id))) return false;
      // 0: the job is active, locked by its worker.
      if ((await queue.remove(id)) === 0) await cancelActive(id);
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
      if (!events) {
        // QueueEvents blocks on Redis: BullMQ reads through its own copy of the connection, and closes it.
        events = new QueueEvents(QUEUE_NAME, { connection, prefix: config.redis.prefix });
        events.on('error', (error) => log.error(logFields(error), 'job events: Redis error'));
      }
      const report = (jobId: string, state: 'completed' | 'failed') => {
        const measure = async () => {
          const job = (await queue.getJob(jobId)) as Job<JobSpec> | undefined;
          // A cancelled job is not a failure worth counting.
          if (job?.processedOn && job.finishedOn && job.failedReason !== CANCELLED)
            listener(job.data.kind, state, (job.finishedOn - job.processedOn) / 1000);
        };
        measure().catch((error: unknown) =>
          log.error({ job: jobId, ...logFields(error) }, 'job duration not recorded'),
        );
      };
      events.on('completed', ({ jobId }) => report(jobId, 'completed'));
      events.on('failed', ({ jobId }) => report(jobId, 'failed'));
    },
    async close() {
      sweeper.stop();
      if (events && !(await closeWithin(events.close())))
        log.error({ code: 'E_TIMEOUT' }, 'job events: Redis did not answer the close; shutting down anyway');
      if (!(await closeWithin(queue.close())))
        log.error({ code: 'E_TIMEOUT' }, 'job queue: Redis did not answer the close; shutting down anyway');
      connection.disconnect();
    },
  };
}

/**
 * A BullMQ worker (`nestor worker`): takes jobs from Redis and runs them on its own pipeline.
 * Input faults (4xx codes) fail at once; anything else is retried. A cancelled job is aborted,
 * never retried, and removed.
 */
export function startBullWorker(
  options: {
    config: Config;
    storage: JobStorage;
    /** Where faults that must not stop the worker go (default: stderr). */
    log?: (line: string) => void;
  } & ({ nestor: Nestor } | { run: RunJob }),
): {
  close(): Promise<void>;
} {
  const { config, storage } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  const run: RunJob =
    'run' in options
      ? options.run
      : (spec, onProgress, signal) => runJob(options.nestor, storage, spec, onProgress, signal);
  const connection = connect(config);
  const isCancelled = async (id: string) => (await connection.exists(cancelKey(config, id))) === 1;
  const worker = new Worker<JobSpec, JobOutput>(
    QUEUE_NAME,
    // BullMQ passes the abort signal (worker.cancelJob) only to a processor declaring a third parameter.
    async (job, _token, signal) => {
      const { id } = job.data;
      // Cancelled before this worker took it, e.g. while the worker it ran on died.
      if (await isCancelled(id)) throw new UnrecoverableError(CANCELLED);
      try {
        const output = await run(
          job.data,
          (p) => {
            job
              .updateProgress({ ...p })
              .catch((error: unknown) =>
                log(`nestor worker: job ${id}: progress not saved: ${String(error)}`),
              );
          },
          signal!,
        );
        await storage.markDone(id);
        return output;
      } catch (error) {
        // The mark also catches a cancel whose message was missed: the job then fails on its deleted files.
        if (signal?.aborted || (await isCancelled(id))) throw new UnrecoverableError(CANCELLED);
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
  // Without a listener, an 'error' (e.g. Redis gone for a moment) would be thrown and end the process.
  worker.on('error', (error) => log(`nestor worker: ${String(error)}`));
  worker.on('failed', (job, error) => {
    if (!job) return;
    const { id } = job.data;
    // A cancelled job's files are gone already; the in-process queue forgets such a job, so Redis does too.
    if (error.message === CANCELLED) {
      job.remove().catch((e: unknown) => log(`nestor worker: cancelled job ${id} not removed: ${String(e)}`));
      return;
    }
    // finishedOn: failed for good, retries spent or not allowed (a 4xx code fails at its first attempt).
    if (job.finishedOn) {
      storage
        .markDone(id)
        .catch((e: unknown) => log(`nestor worker: job ${id} not marked done: ${String(e)}`));
    }
  });

  const subscriber = connect(config);
  // ioredis would print an unhandled 'error' itself: Redis gone for a moment goes to this worker's log.
  subscriber.on('error', (error: Error) => log(`nestor worker: cancel channel: ${String(error)}`));
  let closing = false;
  subscriber.on('message', (_channel: string, id: string) => worker.cancelJob(id, CANCELLED));
  subscriber.subscribe(cancelChannel(config)).catch((error: unknown) => {
    // A worker closed before its subscription completed has no cancel left to receive.
    if (!closing) log(`nestor worker: cancels will not be received: ${String(error)}`);
  });
  return {
    async close() {
      closing = true;
      if (!(await closeWithin(worker.close())))
        log('nestor worker: Redis did not answer the close; shutting down anyway');
      subscriber.disconnect();
      connection.disconnect();
    },
  };
}
