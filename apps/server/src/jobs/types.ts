import type { NestorErrorJson, ProcessOptions } from '@nestor/core';

export const JOB_KINDS = ['video', 'images'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export type JobState = 'queued' | 'active' | 'completed' | 'failed';

/** What a job is asked to do. Inputs are files in the job's folder (see JobStorage). */
export interface JobSpec {
  readonly id: string;
  readonly kind: JobKind;
  /** File names inside the job's input folder, in upload order (one for a video). */
  readonly inputs: readonly string[];
  readonly options: ProcessOptions;
  /** Who submitted it, when the request carried an identity. */
  readonly owner?: string;
}

/** What a finished job produced: one file to download, and its detections JSON beside it. */
export interface JobOutput {
  readonly fileName: string;
  readonly mimeType: string;
  readonly bytes: number;
}

export interface JobStatus {
  readonly id: string;
  readonly kind: JobKind;
  readonly state: JobState;
  /** 0..1 */
  readonly progress: number;
  /** Seconds left, estimated from the speed so far; absent until known. */
  readonly etaSeconds?: number;
  readonly error?: NestorErrorJson;
  readonly output?: JobOutput;
  readonly owner?: string;
  readonly attempts: number;
}

export interface JobProgress {
  readonly progress: number;
  readonly etaSeconds?: number;
}

/**
 * Where jobs wait and run: in this process (default) or in BullMQ workers (Redis). Both share the
 * same storage layout, so routes do not care which is used.
 */
export interface JobQueue {
  /** `in-process` or `bullmq`. */
  readonly kind: string;
  add(spec: JobSpec): Promise<void>;
  get(id: string): Promise<JobStatus | undefined>;
  /** Forgets a job (cancelling it when it runs in this process); false if unknown. */
  remove(id: string): Promise<boolean>;
  /** Jobs by state, for the metrics. */
  counts(): Promise<Record<JobState, number>>;
  /** Calls `listener` when a job finishes (metrics). */
  onFinished(listener: (kind: JobKind, state: 'completed' | 'failed', seconds: number) => void): void;
  close(): Promise<void>;
}
