import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NestorError } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import type { InputFile } from './inputs.ts';
import { checkTarget, identitiesOf, OutputPlan, writeOutput } from './outputs.ts';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'nestor-outputs-'));

/** An input found in a folder walk of `root` (or named alone, without `fromTree`). */
function input(root: string, relative: string, fromTree = true): InputFile {
  const absolute = path.join(root, relative);
  return { given: relative, absolute, real: absolute, relative, fromTree };
}

async function failure(promise: Promise<unknown>): Promise<NestorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof NestorError)) throw new Error(`expected a NestorError, got ${String(error)}`);
  return error;
}

describe('OutputPlan', () => {
  it('gives the plain name to the first input and numbers the others that would share it', () => {
    const root = tmp();
    const files = ['a.jpg', 'a.jpeg', 'b.gif', 'b.png', 'd1/x.jpg', 'd2/x.jpg'].map((f) => input(root, f));
    const out = path.join(root, 'out');
    const plan = new OutputPlan(out, files);
    const extensions = ['.jpg', '.jpg', '.png', '.png', '.jpg', '.jpg'];
    const claims = files.map((f, i) => plan.claim(f, extensions[i]!));
    expect(claims.map((c) => path.relative(out, c.target))).toEqual([
      'a.jpg',
      'a-2.jpg',
      'b.png',
      'b-2.png',
      'd1/x.jpg',
      'd2/x.jpg',
    ]);
    expect(claims.map((c) => c.sharesWith?.given)).toEqual([
      undefined,
      'a.jpg',
      undefined,
      'b.gif',
      undefined,
      undefined,
    ]);
  });

  it('numbers files named alone into one folder, and names beside their input', () => {
    const root = tmp();
    const named = [input(root, 'd1/x.jpg', false), input(root, 'd2/x.jpg', false)];
    const plan = new OutputPlan(path.join(root, 'out'), named);
    expect(named.map((f) => path.basename(plan.claim(f, '.jpg').target))).toEqual(['x.jpg', 'x-2.jpg']);
    const beside = [input(root, 'a.jpg'), input(root, 'a.jpeg')];
    const besidePlan = new OutputPlan(undefined, beside);
    expect(beside.map((f) => path.basename(besidePlan.claim(f, '.jpg').target))).toEqual([
      'a.anonymized.jpg',
      'a-2.anonymized.jpg',
    ]);
  });

  it('compares names without case, skips the names of inputs, and keeps a claim', () => {
    const root = tmp();
    const files = [input(root, 'A.jpg'), input(root, 'a.jpeg'), input(root, 'a-2.jpg')];
    const plan = new OutputPlan(root, files);
    expect(files.map((f) => path.basename(plan.claim(f, '.jpg').target))).toEqual([
      'A.jpg',
      'a-3.jpg',
      'a-2.jpg',
    ]);
    expect(plan.claim(files[1]!, '.jpg').target).toBe(path.join(root, 'a-3.jpg'));
    expect(plan.planned(files[1]!)).toBe(path.join(root, 'a-3.jpg'));
    // Written in another format than planned (a server's default): a new name, still unshared.
    expect(path.basename(plan.claim(files[0]!, '.png').target)).toBe('A.png');
    expect(path.basename(plan.claim(files[1]!, '.png').target)).toBe('a-2.png');
  });

  it('sees one folder reached through a link as that folder', () => {
    const root = tmp();
    mkdirSync(path.join(root, 'in'));
    symlinkSync('in', path.join(root, 'alias'));
    const files = [input(root, 'in/a.jpg', false), input(root, 'alias/a.jpeg', false)];
    const plan = new OutputPlan(undefined, files);
    expect(files.map((f) => path.relative(root, plan.claim(f, '.jpg').target))).toEqual([
      'in/a.anonymized.jpg',
      'alias/a-2.anonymized.jpg',
    ]);
  });
});

describe('checkTarget and writeOutput', () => {
  it('refuses an input reached through a linked folder, even with overwrite', () => {
    const root = tmp();
    mkdirSync(path.join(root, 'in'));
    writeFileSync(path.join(root, 'in/x.jpg'), 'input');
    symlinkSync('in', path.join(root, 'alias'));
    const rules = { inputs: identitiesOf([input(root, 'in/x.jpg')]), overwrite: true };
    expect(() => checkTarget(path.join(root, 'alias/x.jpg'), rules)).toThrow(
      /Refusing to overwrite the input/,
    );
    expect(() => checkTarget(path.join(root, 'alias/y.jpg'), rules)).not.toThrow();
  });

  it('says which file stands where the output folder should be, as E_OUTPUT_WRITE', async () => {
    const root = tmp();
    writeFileSync(path.join(root, 'file.png'), 'a file');
    const rules = { inputs: new Set<string>(), overwrite: false };
    for (const target of ['file.png/a.jpg', 'file.png/sub/a.jpg']) {
      const error = await failure(writeOutput(path.join(root, target), new Uint8Array([1]), rules));
      expect(error.code).toBe('E_OUTPUT_WRITE');
      expect(error.message).toBe(
        `Could not write ${path.join(root, target)}: ${path.join(root, 'file.png')} is a file, not a folder`,
      );
    }
    expect(readFileSync(path.join(root, 'file.png'), 'utf8')).toBe('a file');
  });

  it('writes whole files and leaves no temporary file behind', async () => {
    const root = tmp();
    const rules = { inputs: new Set<string>(), overwrite: false };
    await writeOutput(path.join(root, 'deep/er/a.jpg'), new Uint8Array([1, 2, 3]), rules);
    expect([...readFileSync(path.join(root, 'deep/er/a.jpg'))]).toEqual([1, 2, 3]);
    expect(readdirSync(path.join(root, 'deep/er'))).toEqual(['a.jpg']);
    expect((await failure(writeOutput(path.join(root, 'deep/er/a.jpg'), new Uint8Array(), rules))).code).toBe(
      'E_OUTPUT_EXISTS',
    );
  });
});
