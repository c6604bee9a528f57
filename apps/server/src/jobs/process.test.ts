import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CallHooks, DetectionResult, ProcessOptions } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { batchProgress, type JobPipeline, runJob } from './process.ts';
import { JobStorage } from './storage.ts';
import type { JobProgress } from './types.ts';

describe('batchProgress', () => {
  it.each([
    { done: 0, total: 4, elapsed: 0, want: { progress: 0 } },
    // Half of the first of two images, in 10 s: 30 s left at that pace.
    { done: 0.5, total: 2, elapsed: 10, want: { progress: 0.25, etaSeconds: 30 } },
    { done: 1.5, total: 3, elapsed: 30, want: { progress: 0.5, etaSeconds: 30 } },
    { done: 3, total: 3, elapsed: 12, want: { progress: 1, etaSeconds: 0 } },
  ])('$done of $total in $elapsed s → $want', ({ done, total, elapsed, want }) => {
    expect(batchProgress(done, total, elapsed)).toEqual(want);
  });
});

describe('runJob (a batch of images)', () => {
  it('moves its progress within an image as the pipeline reports, and ends at 1', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'nestor-process-'));
    try {
      const storage = JobStorage.at(root);
      const id = JobStorage.newId();
      await storage.create(id);
      await writeFile(path.join(storage.inputDir(id), 'a.png'), 'not read by the fake');
      const result = { detections: [], counts: { face: 0, plate: 0 } } as unknown as DetectionResult;
      // A pipeline whose one image takes three reports, 300 ms apart (more than the job's 250 ms).
      const pipeline = {
        async detect(_bytes: Uint8Array, _options?: ProcessOptions, hooks?: CallHooks) {
          for (const runs of [1, 2, 3]) {
            await new Promise((resolve) => setTimeout(resolve, 300));
            hooks?.onProgress?.({ stage: 'detect', runs, plannedRuns: 4 });
          }
          return result;
        },
      } as unknown as JobPipeline;
      const told: JobProgress[] = [];
      await runJob(
        pipeline,
        storage,
        { id, kind: 'images', inputs: ['a.png'], options: { task: 'detect' } },
        (p) => told.push(p),
      );
      const within = told.filter((p) => p.progress > 0 && p.progress < 1);
      expect(within.length).toBeGreaterThanOrEqual(2);
      expect(within.every((p) => p.etaSeconds !== undefined)).toBe(true);
      expect(told.at(-1)).toEqual({ progress: 1, etaSeconds: 0 });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
