import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandInputs } from './inputs.ts';

/** A fresh folder holding these (empty) files: names decide what a walk takes, content is read later. */
function tree(files: readonly string[]): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'nestor-inputs-'));
  for (const file of files) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), '');
  }
  return root;
}

const given = (expanded: Awaited<ReturnType<typeof expandInputs>>) => expanded.files.map((f) => f.given);

describe('expandInputs', () => {
  it('walks a folder once through links to itself or a parent, and takes each file once', async () => {
    const root = tree(['loop/a.jpg', 'loop/sub/b.png', 'loop/notes.txt', 'loop/.hidden.jpg']);
    symlinkSync('.', path.join(root, 'loop/self'));
    symlinkSync('..', path.join(root, 'loop/sub/up'));
    symlinkSync('a.jpg', path.join(root, 'loop/link.jpg'));
    const expanded = await expandInputs(['loop', 'loop/a.jpg', 'loop/sub/up/link.jpg'], root);
    expect(given(expanded)).toEqual(['loop/a.jpg', 'loop/sub/b.png']);
    expect(expanded.files[0]!.real).toBe(path.join(root, 'loop/a.jpg'));
    expect(expanded.failed).toEqual([]);
  });

  it('follows a link to a folder elsewhere, mirrored under the link name', async () => {
    const root = tree(['elsewhere/c.webp', 'in/a.jpg']);
    symlinkSync(path.join(root, 'elsewhere'), path.join(root, 'in/linked'));
    expect(given(await expandInputs(['in'], root))).toEqual(['in/a.jpg', 'in/linked/c.webp']);
  });

  it('takes a broken link with an image name, to be reported when read', async () => {
    const root = tree(['in/a.jpg']);
    symlinkSync('gone.jpg', path.join(root, 'in/broken.jpg'));
    expect(given(await expandInputs(['in'], root))).toEqual(['in/a.jpg', 'in/broken.jpg']);
  });

  it('leaves out earlier outputs met by a walk or a glob, not those named', async () => {
    const root = tree(['in/a.jpg', 'in/a.anonymized.jpg', 'in/sub/b.anonymized.png']);
    const options = { skipAnonymized: true };
    expect(given(await expandInputs(['in'], root, options))).toEqual(['in/a.jpg']);
    expect(given(await expandInputs(['in/*.jpg'], root, options))).toEqual(['in/a.jpg']);
    expect(given(await expandInputs(['in/**/*.anonymized.*'], root, options))).toEqual([
      'in/a.anonymized.jpg',
      'in/sub/b.anonymized.png',
    ]);
    expect(given(await expandInputs(['in/a.anonymized.jpg'], root, options))).toEqual([
      'in/a.anonymized.jpg',
    ]);
    // Without the option (detect) everything is an input.
    expect(given(await expandInputs(['in'], root))).toHaveLength(3);
  });

  it('never enters the output folder, however it is reached, unless the input is inside it', async () => {
    const root = tree(['in/a.jpg', 'in/out/a.jpg', 'in/out/sub/b.png']);
    symlinkSync('out', path.join(root, 'in/alias'));
    symlinkSync('out/sub', path.join(root, 'in/into-out'));
    const options = { skipFolder: 'in/out' };
    expect(given(await expandInputs(['in'], root, options))).toEqual(['in/a.jpg']);
    expect(given(await expandInputs(['in/**/*.jpg'], root, options))).toEqual(['in/a.jpg']);
    expect(given(await expandInputs(['in/out'], root, options))).toEqual([
      'in/out/a.jpg',
      'in/out/sub/b.png',
    ]);
    expect(given(await expandInputs(['in/out/a.jpg'], root, options))).toEqual(['in/out/a.jpg']);
  });

  it('reports an argument that matches nothing', async () => {
    const root = tree(['a.jpg']);
    const { files, failed } = await expandInputs(['nope.jpg', 'nope/*.jpg', 'a.jpg'], root);
    expect(files.map((f) => f.given)).toEqual(['a.jpg']);
    expect(failed.map((f) => [f.given, f.error.code])).toEqual([
      ['nope.jpg', 'E_INPUT_NOT_FOUND'],
      ['nope/*.jpg', 'E_INPUT_NOT_FOUND'],
    ]);
  });

  // root reads any folder whatever its mode.
  it.skipIf(process.getuid?.() === 0)('reports a folder it cannot read and goes on', async () => {
    const root = tree(['in/a.jpg', 'in/locked/b.jpg']);
    chmodSync(path.join(root, 'in/locked'), 0);
    try {
      const { files, failed } = await expandInputs(['in'], root);
      expect(files.map((f) => f.given)).toEqual(['in/a.jpg']);
      expect(failed.map((f) => [f.given, f.error.code])).toEqual([['in/locked', 'E_INPUT_UNREADABLE']]);
    } finally {
      chmodSync(path.join(root, 'in/locked'), 0o755);
    }
  });
});
