import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FILE_EXTENSIONS, type ImageFormat, NestorError } from '@nestor/core';
import type { InputFile } from './inputs.ts';

/**
 * Where the anonymized copy of `input` goes. Without `outDir` it sits beside the input as
 * `name.anonymized.ext`; with it, files from folders and globs keep their relative tree.
 */
export function outputPathFor(input: InputFile, format: ImageFormat, outDir: string | undefined): string {
  const ext = FILE_EXTENSIONS[format];
  const parsed = path.parse(input.absolute);
  if (!outDir) return path.join(parsed.dir, `${parsed.name}.anonymized${ext}`);
  const rel = input.fromTree ? input.relative : path.basename(input.absolute);
  const relParsed = path.parse(rel);
  return path.join(path.resolve(outDir), relParsed.dir, `${relParsed.name}${ext}`);
}

export interface TargetRules {
  readonly inputs: ReadonlySet<string>;
  readonly overwrite: boolean;
}

/** Throws when writing `target` would replace an input or (without overwrite) an existing file. */
export function checkTarget(target: string, rules: TargetRules): void {
  if (rules.inputs.has(path.resolve(target))) {
    throw new NestorError('E_OUTPUT_EXISTS', `Refusing to overwrite the input ${target}`);
  }
  if (!rules.overwrite && existsSync(target)) {
    throw new NestorError('E_OUTPUT_EXISTS', `${target} already exists (use --overwrite to replace it)`);
  }
}

/**
 * Writes through a temporary file renamed into place, so an interrupted or failed run leaves no
 * half-written image; refuses to touch any input and, unless `overwrite`, any existing file.
 */
export async function writeOutput(target: string, bytes: Uint8Array, options: TargetRules): Promise<void> {
  checkTarget(target, options);
  const temp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${randomBytes(6).toString('hex')}.part`,
  );
  try {
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(temp, bytes, { flag: 'wx' });
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw new NestorError('E_OUTPUT_WRITE', `Could not write ${target}`, { cause: error });
  }
}
