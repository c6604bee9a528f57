import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { VIDEO_FILE_EXTENSIONS } from './video.ts';

/** Extensions considered images when walking folders (content is still sniffed, never trusted). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.avif', '.tif', '.tiff', '.gif'];

/** One input file: the path as the user gave it (or found it), and where it sits below its root. */
export interface InputFile {
  readonly given: string;
  readonly absolute: string;
  /** Path relative to the folder or glob base it was found in ('' root for plain files). */
  readonly relative: string;
  /** True when it came from a folder or glob (so the output tree mirrors `relative`). */
  readonly fromTree: boolean;
}

/** An argument that matched nothing. */
export interface MissingInput {
  readonly given: string;
}

/** Expands files, folders (recursively, images and videos) and globs, in argument order, without duplicates. */
export async function expandInputs(
  args: readonly string[],
  cwd = process.cwd(),
): Promise<{ files: InputFile[]; missing: MissingInput[] }> {
  const files: InputFile[] = [];
  const missing: MissingInput[] = [];
  const seen = new Set<string>();
  const add = (file: InputFile) => {
    if (seen.has(file.absolute)) return;
    seen.add(file.absolute);
    files.push(file);
  };
  for (const arg of args) {
    const absolute = path.resolve(cwd, arg);
    if (existsSync(absolute) && statSync(absolute).isDirectory()) {
      const found = await glob(
        [...IMAGE_EXTENSIONS, ...VIDEO_FILE_EXTENSIONS].map((e) => `**/*${e}`),
        { cwd: absolute, caseSensitiveMatch: false, dot: false },
      );
      for (const rel of found.sort()) {
        add({
          given: path.join(arg, rel),
          absolute: path.join(absolute, rel),
          relative: rel,
          fromTree: true,
        });
      }
    } else if (!existsSync(absolute) && isDynamicPattern(arg)) {
      const found = await glob(arg, { cwd, absolute: false, onlyFiles: true });
      if (found.length === 0) missing.push({ given: arg });
      const base = globBase(arg);
      for (const rel of found.sort()) {
        add({
          given: rel,
          absolute: path.resolve(cwd, rel),
          relative: path.relative(path.resolve(cwd, base), path.resolve(cwd, rel)),
          fromTree: true,
        });
      }
    } else if (existsSync(absolute)) {
      add({ given: arg, absolute, relative: path.basename(absolute), fromTree: false });
    } else {
      missing.push({ given: arg });
    }
  }
  return { files, missing };
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
