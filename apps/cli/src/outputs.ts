import { randomBytes } from 'node:crypto';
import { type BigIntStats, lstatSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NestorError } from '@nestor/core';
import { type InputFile, isMissing, realPathOf } from './inputs.ts';

/**
 * Where the anonymized copy of `input` goes. Without `outDir` it sits beside the input as
 * `NAME.anonymized.EXT`; with it, files from folders and globs keep their relative tree. `number`
 * above 1 makes it `NAME-number…`, for an input whose plain name another input of the run has.
 */
export function outputPath(
  input: InputFile,
  extension: string,
  outDir: string | undefined,
  number = 1,
): string {
  const suffix = number > 1 ? `-${number}` : '';
  if (!outDir) {
    const parsed = path.parse(input.absolute);
    return path.join(parsed.dir, `${parsed.name}${suffix}.anonymized${extension}`);
  }
  const rel = path.parse(input.fromTree ? input.relative : path.basename(input.absolute));
  return path.join(path.resolve(outDir), rel.dir, `${rel.name}${suffix}${extension}`);
}

/**
 * The output paths of one run, so that no two inputs write the same file. Inputs claim in the
 * order they are processed: the first keeps the plain name, a later one gets `NAME-2`, `NAME-3`…
 * (skipping the names of inputs). Names are compared with folder links resolved and without case,
 * since the disk written to may not tell `A.jpg` from `a.jpg`.
 */
export class OutputPlan {
  private readonly owners = new Map<string, InputFile>();
  private readonly targets = new Map<InputFile, string>();
  private readonly inputKeys = new Set<string>();
  private readonly realFolders = new Map<string, string>();

  constructor(
    private readonly outDir: string | undefined,
    inputs: readonly InputFile[],
  ) {
    for (const input of inputs) {
      this.inputKeys.add(this.key(input.absolute));
      this.inputKeys.add(input.real.toLowerCase());
    }
  }

  /** The path claimed for `file`, if it has one. */
  planned(file: InputFile): string | undefined {
    return this.targets.get(file);
  }

  /**
   * The output of `file` written with `extension`: the path it claimed when that has this
   * extension, else a new claim. `sharesWith` is the input that has the plain name when numbered.
   */
  claim(file: InputFile, extension: string): { target: string; sharesWith?: InputFile } {
    const claimed = this.targets.get(file);
    if (claimed !== undefined && path.extname(claimed) === extension) return { target: claimed };
    const plain = this.key(outputPath(file, extension, this.outDir));
    for (let number = 1; ; number++) {
      const target = outputPath(file, extension, this.outDir, number);
      const key = this.key(target);
      if (this.owners.has(key) || (number > 1 && this.inputKeys.has(key))) continue;
      this.owners.set(key, file);
      this.targets.set(file, target);
      const sharesWith = number > 1 ? this.owners.get(plain) : undefined;
      return sharesWith ? { target, sharesWith } : { target };
    }
  }

  private key(target: string): string {
    const folder = path.dirname(target);
    let real = this.realFolders.get(folder);
    if (real === undefined) {
      real = realPathOf(folder);
      this.realFolders.set(folder, real);
    }
    return path.join(real, path.basename(target)).toLowerCase();
  }
}

export interface TargetRules {
  /** Device and inode (`dev:ino`) of every input: what must never be replaced, whatever the path. */
  readonly inputs: ReadonlySet<string>;
  readonly overwrite: boolean;
}

const identity = (stats: BigIntStats) => `${stats.dev}:${stats.ino}`;

/** What `TargetRules.inputs` holds for these files. */
export function identitiesOf(files: readonly InputFile[]): Set<string> {
  const identities = new Set<string>();
  for (const file of files) {
    try {
      const stats = statOf(file.absolute, true);
      if (stats) identities.add(identity(stats));
    } catch (error) {
      // A file in a folder that cannot be searched cannot be replaced either (and fails when read).
      if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
    }
  }
  return identities;
}

/** `stat` (or `lstat`) that answers undefined where nothing is: a missing path, one through a file, a loop. */
function statOf(file: string, follow: boolean): BigIntStats | undefined {
  try {
    return follow ? statSync(file, { bigint: true }) : lstatSync(file, { bigint: true });
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/**
 * Throws when writing `target` would replace an input (even reached through a link, a hard link or
 * another case of its name) or, without overwrite, an existing file.
 */
export function checkTarget(target: string, rules: TargetRules): void {
  let resolved: BigIntStats | undefined;
  try {
    if (!statOf(target, false)) return;
    resolved = statOf(target, true);
  } catch (error) {
    throw new NestorError('E_OUTPUT_WRITE', `Could not check ${target}: ${describe(error)}`, {
      cause: error,
    });
  }
  if (resolved && rules.inputs.has(identity(resolved))) {
    throw new NestorError('E_OUTPUT_EXISTS', `Refusing to overwrite the input ${target}`);
  }
  if (!rules.overwrite) {
    throw new NestorError('E_OUTPUT_EXISTS', `${target} already exists (use --overwrite to replace it)`);
  }
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Creates the folder of `target`, or throws E_OUTPUT_WRITE saying why it cannot be there. */
export async function makeFolderFor(target: string): Promise<void> {
  try {
    await mkdir(path.dirname(target), { recursive: true });
  } catch (error) {
    const blocker = fileInTheWay(path.dirname(target));
    const why = blocker ? `${blocker} is a file, not a folder` : describe(error);
    throw new NestorError('E_OUTPUT_WRITE', `Could not write ${target}: ${why}`, { cause: error });
  }
}

/** The nearest existing ancestor of `folder` (itself included) when it is not a folder. */
function fileInTheWay(folder: string): string | undefined {
  for (let at = folder; ; at = path.dirname(at)) {
    let stats: BigIntStats | undefined;
    try {
      stats = statOf(at, true);
    } catch {
      // Only words for a failure already being thrown: without them its own message stands.
      return undefined;
    }
    if (stats) return stats.isDirectory() ? undefined : at;
    if (at === path.dirname(at)) return undefined;
  }
}

/** A hidden temporary name beside `target`, for writing it whole before renaming it into place. */
export const temporaryPathFor = (target: string): string =>
  path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.part`);

/**
 * Removes a temporary file after a failure, never throwing over the failure being reported: a
 * file left behind is described in the returned words instead.
 */
export async function removeTemporary(temp: string): Promise<string | undefined> {
  try {
    await rm(temp, { force: true });
    return undefined;
  } catch (error) {
    // Nothing to remove where the folder itself is missing or is a file.
    if (isMissing(error)) return undefined;
    return `${temp} could not be removed: ${describe(error)}`;
  }
}

/**
 * Writes through a temporary file renamed into place, so an interrupted or failed run leaves no
 * half-written image; refuses to touch any input and, unless `overwrite`, any existing file.
 */
export async function writeOutput(target: string, bytes: Uint8Array, options: TargetRules): Promise<void> {
  checkTarget(target, options);
  await makeFolderFor(target);
  const temp = temporaryPathFor(target);
  try {
    await writeFile(temp, bytes, { flag: 'wx' });
    await rename(temp, target);
  } catch (error) {
    const leftover = await removeTemporary(temp);
    throw new NestorError(
      'E_OUTPUT_WRITE',
      `Could not write ${target}: ${describe(error)}${leftover ? ` (and ${leftover})` : ''}`,
      { cause: error },
    );
  }
}
