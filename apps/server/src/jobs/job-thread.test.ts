import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultConfig, parseProcessOptions } from '@nestor/core';
import { DEFAULT_MODELS_DIR } from '@nestor/models';
import { afterAll, describe, expect, it } from 'vitest';
import { createJobThread } from './job-thread.ts';
import { JobStorage } from './storage.ts';
import { noiseJpeg } from './test-support.ts';

const config = defaultConfig();
const storage = JobStorage.fromConfig(config);
const thread = createJobThread({ config, modelsDir: DEFAULT_MODELS_DIR, storageRoot: storage.root });
afterAll(async () => {
  await thread.close();
  await storage.close();
});

async function imagesJob() {
  const id = JobStorage.newId();
  await storage.create(id);
  await writeFile(path.join(storage.inputDir(id), 'a.jpg'), await noiseJpeg());
  return { id, kind: 'images' as const, inputs: ['a.jpg'], options: parseProcessOptions({}) };
}

describe('job thread', () => {
  it('runs a job off the main thread to its output, reporting progress', async () => {
    const progress: number[] = [];
    const output = await thread.run(
      await imagesJob(),
      (p) => progress.push(p.progress),
      new AbortController().signal,
    );
    expect(output).toMatchObject({ fileName: 'anonymized.zip', mimeType: 'application/zip' });
    expect(output.bytes).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(1);
  });

  it('refuses a job whose signal has already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(thread.run(await imagesJob(), () => {}, controller.signal)).rejects.toThrow();
  });
});
