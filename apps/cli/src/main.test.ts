import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT, main } from './main.ts';
import { captureIo, DEV_SET, HAS_DEV_SET, interruptibleIo, SKIP_DEV_SET_REASON } from './test-support.ts';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'nestor-cli-'));

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)).map((f) => path.join(e.name, f)) : [e.name],
  );
}

async function photoLike(file: string, format: 'jpeg' | 'png' | 'webp' | 'gif' = 'jpeg') {
  mkdirSync(path.dirname(file), { recursive: true });
  const raw = Buffer.alloc(160 * 120 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 31 + ((i / 480) | 0) * 7) % 256;
  await sharp(raw, { raw: { width: 160, height: 120, channels: 3 } })
    .toFormat(format)
    .toFile(file);
}

describe('nestor CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = tmp();
    mkdirSync(path.join(dir, 'in/sub/deeper'), { recursive: true });
    await photoLike(path.join(dir, 'in/a.jpg'));
    await photoLike(path.join(dir, 'in/sub/b.png'), 'png');
    await photoLike(path.join(dir, 'in/sub/deeper/c.webp'), 'webp');
    // a PNG under a .jpg name: the content decides, the output gets the right extension
    await photoLike(path.join(dir, 'in/sub/wrong-extension.jpg'), 'png');
    writeFileSync(path.join(dir, 'in/sub/not-an-image.jpg'), 'hello');
    writeFileSync(path.join(dir, 'in/empty.png'), '');
    writeFileSync(
      path.join(dir, 'in/truncated.jpg'),
      readFileSync(path.join(dir, 'in/a.jpg')).subarray(0, 2000),
    );
    await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
      .png()
      .toFile(path.join(dir, 'in/tiny.png'));
  });

  it('prints complete help with exit codes', async () => {
    const io = captureIo(dir);
    expect(await main(['--help'], io)).toBe(EXIT.ok);
    for (const word of ['anonymize', 'detect', 'eval', 'bench', 'Exit codes'])
      expect(io.out()).toContain(word);
    const sub = captureIo(dir);
    expect(await main(['anonymize', '--help'], sub)).toBe(EXIT.ok);
    for (const flag of [
      '--out',
      '--method',
      '--strength',
      '--format',
      '--quality',
      '--keep-metadata',
      '--preset',
      '--targets',
    ])
      expect(sub.out()).toContain(flag);
  });

  it('answers bad usage with exit code 2 and a clear message', async () => {
    const io = captureIo(dir);
    expect(await main(['anonymize', 'in/a.jpg', '--method', 'swirl'], io)).toBe(EXIT.usage);
    expect(io.err()).toContain('swirl');
    const io2 = captureIo(dir);
    expect(await main(['anonymize', 'in/a.jpg', '--quality', '500'], io2)).toBe(EXIT.usage);
    expect(io2.err()).toContain(
      'E_INVALID_OPTION: Expected a value of at most 100 for quality but received 500 of type number',
    );
    expect(await main(['frobnicate'], captureIo(dir))).toBe(EXIT.usage);
  });

  it('anonymizes a folder recursively, mirrors the tree, reports each bad file and goes on', async () => {
    const io = captureIo(dir);
    const code = await main(['anonymize', 'in', '-o', 'out', '--quiet'], io);
    expect(code).toBe(EXIT.someFailed);
    expect(walk(path.join(dir, 'out')).sort()).toEqual([
      'a.jpg',
      'sub/b.png',
      'sub/deeper/c.webp',
      'sub/wrong-extension.png',
    ]);
    const errors = io.err();
    expect(errors).toContain('in/sub/not-an-image.jpg: E_UNSUPPORTED_MEDIA');
    expect(errors).toContain('in/empty.png: E_EMPTY_INPUT');
    expect(errors).toContain('in/truncated.jpg: E_DECODE');
    expect(errors).toContain('in/tiny.png: E_IMAGE_TOO_SMALL');
    // nothing half-written anywhere
    expect(walk(dir).filter((f) => f.endsWith('.part'))).toEqual([]);
    const meta = await sharp(path.join(dir, 'out/sub/deeper/c.webp')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 160, 120]);
  });

  it('never overwrites an input, and an existing output only with --overwrite', async () => {
    const d = tmp();
    await photoLike(path.join(d, 'x.jpg'));
    const before = readFileSync(path.join(d, 'x.jpg'));
    const io = captureIo(d);
    expect(await main(['anonymize', 'x.jpg', '-o', '.', '-q'], io)).toBe(EXIT.someFailed);
    expect(io.err()).toContain('E_OUTPUT_EXISTS');
    expect(readFileSync(path.join(d, 'x.jpg')).equals(before)).toBe(true);
    expect(await main(['anonymize', 'x.jpg', '-q'], captureIo(d))).toBe(EXIT.ok);
    expect(existsSync(path.join(d, 'x.anonymized.jpg'))).toBe(true);
    expect(await main(['anonymize', 'x.jpg', '-q'], captureIo(d))).toBe(EXIT.someFailed);
    expect(await main(['anonymize', 'x.jpg', '-q', '--overwrite'], captureIo(d))).toBe(EXIT.ok);
  });

  it('accepts globs and converts formats', async () => {
    const io = captureIo(dir);
    expect(await main(['anonymize', 'in/sub/**/*.{png,webp}', '-o', 'globbed', '-f', 'png', '-q'], io)).toBe(
      EXIT.ok,
    );
    expect(walk(path.join(dir, 'globbed')).sort()).toEqual(['b.png', 'deeper/c.png']);
  });

  it('detect --json prints only the results document on stdout, errors included per file', async () => {
    const io = captureIo(dir);
    const code = await main(['detect', 'in/a.jpg', 'in/missing.jpg', 'in/empty.png', '--json'], io);
    expect(code).toBe(EXIT.someFailed);
    const doc = JSON.parse(io.out()) as {
      results: { file: string; error?: { code: string }; image?: { width: number } }[];
    };
    const byFile = Object.fromEntries(doc.results.map((r) => [r.file, r]));
    expect(byFile['in/a.jpg']!.image!.width).toBe(160);
    expect(byFile['in/missing.jpg']!.error!.code).toBe('E_INPUT_NOT_FOUND');
    expect(byFile['in/empty.png']!.error!.code).toBe('E_EMPTY_INPUT');
    const ok = doc.results.find((r) => r.file === 'in/a.jpg') as Record<string, unknown>;
    for (const key of ['image', 'detections', 'counts', 'timings', 'engine', 'models'])
      expect(ok).toHaveProperty(key);
  });

  it('--regions covers what a person drew and drops what they named, from a JSON file', async () => {
    const regions = {
      addRegions: [{ x: 10, y: 20, width: 30, height: 40, label: 'plate' }],
      suppress: [{ x: 0, y: 0, width: 160, height: 120 }],
    };
    writeFileSync(path.join(dir, 'regions.json'), JSON.stringify(regions));
    const io = captureIo(dir);
    expect(await main(['detect', 'in/a.jpg', '--json', '--regions', 'regions.json'], io)).toBe(EXIT.ok);
    const doc = JSON.parse(io.out()) as { results: { detections: unknown[] }[] };
    expect(doc.results[0]!.detections).toEqual([
      {
        label: 'plate',
        score: 1,
        box: { x: 10, y: 20, width: 30, height: 40 },
        region: { x: 10, y: 20, width: 30, height: 40 },
        shape: 'rect',
        source: 'manual',
      },
    ]);
  });

  it.each([
    {
      file: 'missing.json',
      content: undefined,
      message: 'Expected a file that can be read for --regions but received "missing.json"',
    },
    {
      file: 'broken.json',
      content: '{"addRegions": [',
      message: 'Expected a JSON file of {"addRegions": […], "suppress": […]} for --regions',
    },
    {
      file: 'extra.json',
      content: '{"regions": []}',
      message: 'Expected only "addRegions" and "suppress" for --regions but received "regions"',
    },
    {
      file: 'backwards.json',
      content: '{"suppress": [{"x": 0, "y": 0, "width": 5, "height": 5, "fromMs": 900, "toMs": 100}]}',
      message: 'Expected a time not before fromMs for suppress.0.toMs but received 100',
    },
  ])('--regions refuses $file with exit code 2 and says why', async ({ file, content, message }) => {
    if (content !== undefined) writeFileSync(path.join(dir, file), content);
    const io = captureIo(dir);
    expect(await main(['detect', 'in/a.jpg', '--regions', file], io)).toBe(EXIT.usage);
    expect(io.err()).toContain(`E_INVALID_OPTION: ${message}`);
  });

  it.skipIf(!HAS_DEV_SET)('finds and covers the faces of a real photo', async () => {
    const d = tmp();
    copyFileSync(path.join(DEV_SET, 'images/face-0003.jpg'), path.join(d, 'street.jpg'));
    const io = captureIo(d);
    expect(await main(['anonymize', 'street.jpg', '--json', '-q', '--targets', 'face'], io)).toBe(EXIT.ok);
    const doc = JSON.parse(io.out()) as { results: { output: string; counts: { face: number } }[] };
    expect(doc.results[0]!.counts.face).toBeGreaterThanOrEqual(2);
    expect(existsSync(path.join(d, doc.results[0]!.output))).toBe(true);
  });

  it.skipIf(HAS_DEV_SET)(SKIP_DEV_SET_REASON, () => {});
});

describe('nestor anonymize: what a batch reads and writes', () => {
  type Results = { results: { file: string; output?: string; error?: { code: string; message: string } }[] };

  it('gives every input its own output: numbered when two would share a name', async () => {
    const d = tmp();
    await photoLike(path.join(d, 'in/a.jpg'));
    await photoLike(path.join(d, 'in/a.jpeg'));
    await photoLike(path.join(d, 'in/b.gif'), 'gif');
    await photoLike(path.join(d, 'in/b.png'), 'png');
    await photoLike(path.join(d, 'in/d1/x.jpg'));
    await photoLike(path.join(d, 'in/d2/x.jpg'));
    const args = ['in/a.jpg', 'in/a.jpeg', 'in/b.gif', 'in/b.png', 'in/d1/x.jpg', 'in/d2/x.jpg'];
    const io = captureIo(d);
    expect(await main(['anonymize', ...args, '-o', 'out', '--overwrite', '--json'], io)).toBe(EXIT.ok);
    expect(walk(path.join(d, 'out')).sort()).toEqual([
      'a-2.jpg',
      'a.jpg',
      'b-2.png',
      'b.png',
      'x-2.jpg',
      'x.jpg',
    ]);
    const { results } = JSON.parse(io.out()) as Results;
    expect(results.map((r) => [r.file, r.output])).toEqual([
      ['in/a.jpg', 'out/a.jpg'],
      ['in/a.jpeg', 'out/a-2.jpg'],
      ['in/b.gif', 'out/b.png'],
      ['in/b.png', 'out/b-2.png'],
      ['in/d1/x.jpg', 'out/x.jpg'],
      ['in/d2/x.jpg', 'out/x-2.jpg'],
    ]);
    expect(io.err()).toContain('in/a.jpeg: written as out/a-2.jpg (in/a.jpg has the same output name)');
    expect(io.err()).toContain('anonymized 6 of 6 file(s)');
    // Beside the inputs, and with one format for all.
    expect(await main(['anonymize', 'in/a.jpg', 'in/a.jpeg', '-q'], captureIo(d))).toBe(EXIT.ok);
    expect(existsSync(path.join(d, 'in/a.anonymized.jpg'))).toBe(true);
    expect(existsSync(path.join(d, 'in/a-2.anonymized.jpg'))).toBe(true);
    expect(await main(['anonymize', 'in', '-f', 'png', '-o', 'png', '-q'], captureIo(d))).toBe(EXIT.ok);
    expect(walk(path.join(d, 'png')).sort()).toEqual([
      'a-2.png',
      'a.png',
      'b-2.png',
      'b.png',
      'd1/x.png',
      'd2/x.png',
    ]);
  });

  it('does not take the outputs of an earlier run for inputs', async () => {
    const d = tmp();
    await photoLike(path.join(d, 'in/a.jpg'));
    await photoLike(path.join(d, 'in/sub/b.png'), 'png');
    expect(await main(['anonymize', 'in', '-q'], captureIo(d))).toBe(EXIT.ok);
    const again = captureIo(d);
    expect(await main(['anonymize', 'in', '--overwrite', '--json', '-q'], again)).toBe(EXIT.ok);
    expect((JSON.parse(again.out()) as Results).results.map((r) => r.file).sort()).toEqual([
      'in/a.jpg',
      'in/sub/b.png',
    ]);
    expect(walk(path.join(d, 'in')).sort()).toEqual([
      'a.anonymized.jpg',
      'a.jpg',
      'sub/b.anonymized.png',
      'sub/b.png',
    ]);
    // Named on purpose, an output is an input like any other.
    expect(await main(['anonymize', 'in/a.anonymized.jpg', '-q'], captureIo(d))).toBe(EXIT.ok);
    expect(existsSync(path.join(d, 'in/a.anonymized.anonymized.jpg'))).toBe(true);
    // An output folder inside the input folder is not walked by the next run.
    for (const overwrite of [[], ['--overwrite']]) {
      expect(await main(['anonymize', 'in/sub', '-o', 'in/sub/out', '-q', ...overwrite], captureIo(d))).toBe(
        EXIT.ok,
      );
    }
    expect(walk(path.join(d, 'in/sub/out'))).toEqual(['b.png']);
  });

  it('reads a folder linked into itself once', async () => {
    const d = tmp();
    await photoLike(path.join(d, 'loop/a.jpg'));
    symlinkSync('.', path.join(d, 'loop/self'));
    const io = captureIo(d);
    expect(await main(['detect', 'loop', '--json'], io)).toBe(EXIT.ok);
    expect((JSON.parse(io.out()) as Results).results.map((r) => r.file)).toEqual(['loop/a.jpg']);
  });

  it('reports an output folder that is a file as E_OUTPUT_WRITE, saying so', async () => {
    const d = tmp();
    await photoLike(path.join(d, 'x.jpg'));
    writeFileSync(path.join(d, 'taken.png'), 'not a folder');
    const io = captureIo(d);
    expect(await main(['anonymize', 'x.jpg', '-o', 'taken.png', '-q'], io)).toBe(EXIT.someFailed);
    expect(io.err()).toContain(
      `x.jpg: E_OUTPUT_WRITE: Could not write ${path.join(d, 'taken.png/x.jpg')}: ${path.join(d, 'taken.png')} is a file, not a folder`,
    );
  });

  it('never replaces an input reached through a linked output folder', async () => {
    const d = tmp();
    await photoLike(path.join(d, 'in/x.jpg'));
    symlinkSync('in', path.join(d, 'alias'));
    const before = readFileSync(path.join(d, 'in/x.jpg'));
    const io = captureIo(d);
    expect(await main(['anonymize', 'in/x.jpg', '-o', 'alias', '--overwrite', '-q'], io)).toBe(
      EXIT.someFailed,
    );
    expect(io.err()).toContain('E_OUTPUT_EXISTS: Refusing to overwrite the input');
    expect(readFileSync(path.join(d, 'in/x.jpg')).equals(before)).toBe(true);
  });

  it('refuses an oversized input by its size on disk, before reading it', async () => {
    const d = tmp();
    // Sparse: 3 GiB that take no room, more than a Node buffer holds.
    writeFileSync(path.join(d, 'huge.jpg'), '');
    truncateSync(path.join(d, 'huge.jpg'), 3 * 2 ** 30);
    try {
      for (const command of ['detect', 'anonymize']) {
        const io = captureIo(d);
        expect(await main([command, 'huge.jpg', '-q'], io)).toBe(EXIT.someFailed);
        expect(io.err()).toMatch(
          /huge\.jpg: E_INPUT_TOO_LARGE: The input has 3221225472 bytes, more than the limit of \d+\n/,
        );
      }
    } finally {
      rmSync(path.join(d, 'huge.jpg'));
    }
  });

  it('--json lists the failed inputs with their error, as detect does', async () => {
    const d = tmp();
    await photoLike(path.join(d, 'x.jpg'));
    writeFileSync(path.join(d, 'empty.png'), '');
    const io = captureIo(d);
    expect(await main(['anonymize', 'x.jpg', 'missing.jpg', 'empty.png', '--json', '-q'], io)).toBe(
      EXIT.someFailed,
    );
    const byFile = Object.fromEntries((JSON.parse(io.out()) as Results).results.map((r) => [r.file, r]));
    expect(byFile['x.jpg']!.output).toBe('x.anonymized.jpg');
    expect(byFile['missing.jpg']!.error!.code).toBe('E_INPUT_NOT_FOUND');
    expect(byFile['empty.png']!.error!.code).toBe('E_EMPTY_INPUT');
    expect(byFile['empty.png']!.error!.message).toMatch(/\S/);
  });
});

describe('nestor anonymize: animated GIF', () => {
  it('anonymizes every frame into an animated GIF beside a still GIF written as PNG; jpeg is refused', async () => {
    const dir = tmp();
    const frames = await Promise.all(
      [0, 1, 2].map((i) =>
        sharp({ create: { width: 80, height: 60, channels: 3, background: '#406080' } })
          .composite([
            {
              input: { create: { width: 10, height: 60, channels: 3, background: '#fff' } },
              left: i * 20,
              top: 0,
            },
          ])
          .png()
          .toBuffer(),
      ),
    );
    await sharp(frames, { join: { animated: true } })
      .gif({ delay: [100, 200, 300], loop: 0 })
      .toFile(path.join(dir, 'moving.gif'));
    await sharp(frames[0]).gif().toFile(path.join(dir, 'still.gif'));
    const io = captureIo(dir);
    expect(await main(['anonymize', 'moving.gif', 'still.gif', '--json', '-q'], io)).toBe(EXIT.ok);
    expect(walk(dir).sort()).toEqual([
      'moving.anonymized.gif',
      'moving.gif',
      'still.anonymized.png',
      'still.gif',
    ]);
    const meta = await sharp(path.join(dir, 'moving.anonymized.gif'), { pages: -1 }).metadata();
    expect([meta.pages, meta.delay, meta.loop]).toEqual([3, [100, 200, 300], 0]);
    const [moving] = (JSON.parse(io.out()) as { results: { image: { frames?: number } }[] }).results;
    expect(moving?.image.frames).toBe(3);
    const refused = captureIo(dir);
    expect(await main(['anonymize', 'moving.gif', '-f', 'jpeg', '-o', 'out', '-q'], refused)).toBe(
      EXIT.someFailed,
    );
    expect(refused.err()).toContain('E_INVALID_OPTION');
  });
});

describe('nestor anonymize: HEIC', () => {
  it('finds .heic files in a folder and writes each as a JPEG beside the others', async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'phone'));
    copyFileSync(
      new URL('../../../packages/engine-node/fixtures/blocks-irot90.heic', import.meta.url),
      path.join(dir, 'phone/IMG_0001.HEIC'),
    );
    await photoLike(path.join(dir, 'phone/IMG_0002.jpg'));
    const io = captureIo(dir);
    expect(await main(['anonymize', 'phone', '-o', 'out', '-q'], io)).toBe(EXIT.ok);
    expect(walk(path.join(dir, 'out')).sort()).toEqual(['IMG_0001.jpg', 'IMG_0002.jpg']);
    const meta = await sharp(path.join(dir, 'out/IMG_0001.jpg')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 64, 96]);
  });
});

describe('nestor --server URL', () => {
  it('sends images to a Nestor server through the SDK and writes the same outputs', async () => {
    const { buildApp } = await import('@nestor/server');
    const { createNodeNestor } = await import('@nestor/engine-node');
    const { defaultConfig } = await import('@nestor/core');
    const { DEFAULT_MODELS_DIR } = await import('@nestor/models');
    const nestor = createNodeNestor(defaultConfig(), DEFAULT_MODELS_DIR);
    const app = buildApp({ nestor, config: defaultConfig() });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const d = tmp();
      await photoLike(path.join(d, 'x.png'), 'png');
      const io = captureIo(d);
      expect(await main(['detect', 'x.png', '--json', '--server', url, '--targets', 'face'], io)).toBe(
        EXIT.ok,
      );
      const doc = JSON.parse(io.out()) as {
        results: { file: string; image: { width: number }; engine: string }[];
      };
      expect(doc.results[0]!.image.width).toBe(160);
      expect(doc.results[0]!.engine).toBe('onnxruntime-node/cpu');
      expect(
        await main(['anonymize', 'x.png', '-o', 'out', '-q', '--server', url, '-m', 'solid'], captureIo(d)),
      ).toBe(EXIT.ok);
      const meta = await sharp(path.join(d, 'out/x.png')).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 160, 120]);
    } finally {
      await app.close();
      await nestor.dispose();
    }
  });

  it('stops with exit code 3 and E_NETWORK when the server cannot be reached', async () => {
    const d = tmp();
    await photoLike(path.join(d, 'x.png'), 'png');
    const io = captureIo(d);
    expect(await main(['detect', 'x.png', '--server', 'http://127.0.0.1:9', '-q'], io)).toBe(EXIT.fatal);
    expect(io.err()).toContain('E_NETWORK');
  });
});

describe('nestor interrupted (Ctrl-C)', () => {
  it('stops after the file in progress, says how many are left and exits 130', async () => {
    const dir = tmp();
    for (const name of ['a', 'b', 'c']) await photoLike(path.join(dir, `in/${name}.jpg`));
    const io = interruptibleIo(dir);
    // Interrupted as the first file's line is printed: the next two are not begun.
    const write = io.stdout.write.bind(io.stdout);
    io.stdout.write = ((chunk: string) => {
      io.interrupt();
      return write(chunk);
    }) as typeof io.stdout.write;
    expect(await main(['detect', 'in', '--targets', 'face', '--preset', 'fast'], io)).toBe(EXIT.interrupted);
    expect(io.out().trim().split('\n')).toHaveLength(1);
    expect(io.err()).toContain('detected in 1 of 3 file(s)');
    expect(io.err()).toContain('nestor: interrupted: 2 file(s) not done');
    expect(io.released()).toBe(true);
  });

  it('writes nothing once interrupted, and says so in --json', async () => {
    const dir = tmp();
    for (const name of ['a', 'b']) await photoLike(path.join(dir, `in/${name}.jpg`));
    const io = interruptibleIo(dir);
    io.interrupt();
    expect(await main(['anonymize', 'in', '-o', 'out', '--json', '-q'], io)).toBe(EXIT.interrupted);
    expect(JSON.parse(io.out())).toEqual({ results: [], interrupted: true });
    expect(existsSync(path.join(dir, 'out')) ? walk(path.join(dir, 'out')) : []).toEqual([]);
  });

  it('is not taken by the commands that do not stop cleanly (eval, bench keep the default Ctrl-C)', async () => {
    const io = interruptibleIo(tmp());
    expect(await main(['--help'], io)).toBe(EXIT.ok);
    expect(io.released()).toBe(false);
  });
});
