import { type Dirent, realpathSync, type Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { NestorError } from '@nestor/core';
import { glob, isDynamicPattern } from 'tinyglobby';
import { VIDEO_FILE_EXTENSIONS } from './video.ts';

/** Extensions considered images when walking folders (content is still sniffed, never trusted). */
export const IMAGE_EXTENSIONS = [
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.avif',
  '.heic',
  '.heif',
  '.tif',
  '.tiff',
  '.gif',
];

const MEDIA_EXTENSIONS = new Set([...IMAGE_EXTENSIONS, ...VIDEO_FILE_EXTENSIONS]);

/** One input file: the path as the user gave it (or found it), and where it sits below its root. */
export interface InputFile {
  readonly given: string;
  readonly absolute: string;
  /** `absolute` with every symbolic link resolved: one file reached two ways is one input. */
  readonly real: string;
  /** Path relative to the folder or glob base it was found in ('' root for plain files). */
  readonly relative: string;
  /** True when it came from a folder or glob (so the output tree mirrors `relative`). */
  readonly fromTree: boolean;
}

/** An argument that gave no input: it matched nothing, or a folder of it could not be read. */
export interface FailedInput {
  readonly given: string;
  readonly error: NestorError;
}

export interface ExpandOptions {
  /** A folder that folder walks and globs never enter (anonymize's `-o`), compared by real path. */
  readonly skipFolder?: string;
  /** Leave out the `*.anonymized.*` files a folder walk or glob meets (anonymize's own outputs). */
  readonly skipAnonymized?: boolean;
}

/** The name anonymize gives an output beside its input (`NAME.anonymized.EXT`). */
export const isAnonymizedName = (file: string): boolean => path.basename(file).includes('.anonymized.');

/** `file` with its symbolic links resolved, or as it is where it does not exist (yet). */
export function realPathOf(file: string): string {
  try {
    return realpathSync(file);
  } catch (error) {
    // A path that cannot be resolved cannot be read either: it fails, reported, when it is.
    if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'EACCES') return file;
    throw error;
  }
}

const isInside = (file: string, folder: string) =>
  file === folder || file.startsWith(folder.endsWith(path.sep) ? folder : folder + path.sep);

/** A path that does not exist, or runs through a file or a link that leads nowhere. */
export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
}

/**
 * Expands files, folders (recursively, images and videos) and globs, in argument order, each file
 * once however many ways it is reached (paths are compared with their links resolved).
 */
export async function expandInputs(
  args: readonly string[],
  cwd = process.cwd(),
  options: ExpandOptions = {},
): Promise<{ files: InputFile[]; failed: FailedInput[] }> {
  const files: InputFile[] = [];
  const failed: FailedInput[] = [];
  const seen = new Set<string>();
  const skipFolder =
    options.skipFolder === undefined ? undefined : realPathOf(path.resolve(cwd, options.skipFolder));
  const add = (file: Omit<InputFile, 'real'>) => {
    const real = realPathOf(file.absolute);
    if (seen.has(real)) return;
    seen.add(real);
    files.push({ ...file, real });
  };
  /** The folder a walk or glob from `root` leaves out: none when the user named a place inside it. */
  const skipFrom = (root: string) =>
    skipFolder !== undefined && !isInside(realPathOf(root), skipFolder) ? skipFolder : undefined;
  for (const arg of args) {
    const absolute = path.resolve(cwd, arg);
    let found: Stats | undefined;
    try {
      found = await stat(absolute);
    } catch (error) {
      if (!isMissing(error)) {
        failed.push({ given: arg, error: unreadable(arg, error) });
        continue;
      }
    }
    if (found?.isDirectory()) {
      const walked = await walkFolder(absolute, skipFrom(absolute));
      for (const problem of walked.unreadable) {
        const given = path.join(arg, problem.relative);
        failed.push({ given, error: unreadable(`the folder ${given}`, problem.error) });
      }
      for (const rel of walked.files) {
        if (options.skipAnonymized && isAnonymizedName(rel)) continue;
        add({
          given: path.join(arg, rel),
          absolute: path.join(absolute, rel),
          relative: rel,
          fromTree: true,
        });
      }
    } else if (!found && isDynamicPattern(arg)) {
      const matches = await glob(arg, { cwd, absolute: false, onlyFiles: true });
      if (matches.length === 0) failed.push({ given: arg, error: notFound(arg) });
      const base = path.resolve(cwd, globBase(arg));
      const skip = skipFrom(base);
      // A pattern that itself names them asks for earlier outputs on purpose.
      const skipAnonymized = options.skipAnonymized && !arg.includes('anonymized');
      for (const rel of matches.sort()) {
        const file = path.resolve(cwd, rel);
        if (skipAnonymized && isAnonymizedName(file)) continue;
        if (skip !== undefined && isInside(realPathOf(path.dirname(file)), skip)) continue;
        add({ given: rel, absolute: file, relative: path.relative(base, file), fromTree: true });
      }
    } else if (found) {
      add({ given: arg, absolute, relative: path.basename(absolute), fromTree: false });
    } else {
      failed.push({ given: arg, error: notFound(arg) });
    }
  }
  return { files, failed };
}

const notFound = (given: string) =>
  new NestorError('E_INPUT_NOT_FOUND', `No such file, folder or matching glob: ${given}`);

const unreadable = (what: string, cause: unknown) =>
  new NestorError('E_INPUT_UNREADABLE', `Could not read ${what}`, { cause });

/**
 * The image and video files below `root` (relative paths, sorted), hidden entries left out. Links
 * to folders are followed, but no folder is read twice, so a link to `.` or to a parent ends the
 * descent instead of looping; `skipFolder` (a real path) is never entered.
 */
async function walkFolder(
  root: string,
  skipFolder: string | undefined,
): Promise<{ files: string[]; unreadable: { relative: string; error: unknown }[] }> {
  const visited = new Set<string>();
  const files: string[] = [];
  const unreadable: { relative: string; error: unknown }[] = [];
  const visit = async (folder: string, relative: string): Promise<void> => {
    let entries: Dirent[];
    try {
      const real = await realpath(folder);
      if (visited.has(real) || (skipFolder !== undefined && isInside(real, skipFolder))) return;
      visited.add(real);
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      unreadable.push({ relative, error });
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(folder, entry.name);
      const rel = path.join(relative, entry.name);
      if (entry.isDirectory() || (entry.isSymbolicLink() && (await isFolderLink(full)))) {
        await visit(full, rel);
      } else if (MEDIA_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
        files.push(rel);
      }
    }
  };
  await visit(root, '');
  return { files: files.sort(), unreadable };
}

/** Whether a symbolic link leads to a folder (a broken one does not; it is then read as a file and reported). */
async function isFolderLink(link: string): Promise<boolean> {
  try {
    return (await stat(link)).isDirectory();
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** The static folder prefix of a glob (`photos/2024/*.jpg` → `photos/2024`). */
export function globBase(pattern: string): string {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const part of parts) {
    if (isDynamicPattern(part)) break;
    fixed.push(part);
  }
  return fixed.length === parts.length ? path.dirname(pattern) : fixed.join('/') || '.';
}
