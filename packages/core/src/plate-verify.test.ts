import { describe, expect, it } from 'vitest';
import { PPOCR_KEYS_V1 } from './decoders/ctc.ts';
import type { InferenceSession, ModelSpec, Tensor } from './engine.ts';
import { type ImageBox, imageBox } from './geometry.ts';
import { cropView, readPlates, verifyPlates } from './plate-verify.ts';
import { MipChain } from './sampling.ts';

const SPEC: ModelSpec = {
  id: 'rec-test',
  label: 'plate',
  description: 'test recogniser',
  file: 'rec.onnx',
  sha256: '0',
  bytes: 0,
  source: { package: 'test', version: '0', path: 'rec.onnx', license: 'MIT' },
  input: {
    name: 'x',
    width: 480,
    height: 48,
    layout: 'NCHW',
    channelOrder: 'BGR',
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
  },
  decoder: { kind: 'ctc', output: 'probs', charset: 'ppocr-keys-v1' },
  minObject: 48,
  maxScale: 8,
};

const CLASS = new Map([...PPOCR_KEYS_V1.table].map(([index, char]) => [char, index]));

/** CTC probabilities spelling `text` (one step per character, blanks between). */
function spell(text: string, steps: number): Float32Array {
  const C = PPOCR_KEYS_V1.classes;
  const out = new Float32Array(steps * C);
  for (let t = 0; t < steps; t++) {
    const char = t % 2 === 1 ? text[(t - 1) / 2] : undefined;
    out[t * C + (char === undefined ? 0 : CLASS.get(char)!)] = 1;
  }
  return out;
}

/**
 * A recogniser that reads each batch item by the width of its content (the non-padding columns of
 * its first row), so tests can tell crops apart; records the batch shapes it was given.
 */
function fakeSession(textForWidth: (width: number) => string, shapes: number[][] = []): InferenceSession {
  return {
    async run(feeds): Promise<Record<string, Tensor>> {
      const x = feeds.x!;
      const [n, , h, w] = x.dims as [number, number, number, number];
      shapes.push([...x.dims]);
      const steps = Math.floor(w / 8);
      const data = new Float32Array(n * steps * PPOCR_KEYS_V1.classes);
      for (let i = 0; i < n; i++) {
        const row = x.data.subarray(i * 3 * h * w, i * 3 * h * w + w);
        let content = w;
        while (content > 0 && row[content - 1] === 0) content--;
        data.set(spell(textForWidth(content), steps), i * steps * PPOCR_KEYS_V1.classes);
      }
      return { probs: { data, dims: [n, steps, PPOCR_KEYS_V1.classes] } };
    },
    release: async () => {},
  };
}

/** A white image, so that no content pixel is 0 after normalisation. */
const mips = new MipChain({
  width: 400,
  height: 300,
  channels: 3,
  data: new Uint8Array(400 * 300 * 3).fill(255),
});

describe('cropView', () => {
  it.each([
    { name: 'scales to height 48', box: imageBox(100, 100, 96, 24), margin: 0, width: 192, scale: 2 },
    { name: 'adds the margin', box: imageBox(100, 100, 80, 20), margin: 0.1, width: 168, scale: 2 },
    { name: 'clips to the image', box: imageBox(-20, 100, 80, 24), margin: 0, width: 120, scale: 2 },
    { name: 'caps the width', box: imageBox(0, 0, 400, 20), margin: 0, width: 480, scale: 1.2 },
  ])('$name', ({ box, margin, width, scale }) => {
    const v = cropView(box, 400, 300, SPEC, margin);
    expect(v?.inputWidth).toBe(width);
    expect(v?.inputHeight).toBe(48);
    expect(v?.scale).toBeCloseTo(scale, 6);
  });

  it.each([
    { name: 'too small to read', box: imageBox(10, 10, 20, 5) },
    { name: 'outside the image', box: imageBox(500, 10, 40, 20) },
  ])('$name → undefined', ({ box }) => {
    expect(cropView(box, 400, 300, SPEC, 0)).toBeUndefined();
  });
});

describe('readPlates', () => {
  const boxes: ImageBox[] = [imageBox(10, 10, 120, 24), imageBox(10, 100, 48, 24), imageBox(200, 200, 20, 2)];
  const texts: Record<number, string> = { 240: '7ABC123', 96: 'OPEN' };

  it.each([1, 2, 8])('batch size %i: reads every crop in input order', async (batchSize) => {
    const shapes: number[][] = [];
    const read = await readPlates(
      fakeSession((w) => texts[w] ?? '', shapes),
      SPEC,
      mips,
      boxes,
      {
        margin: 0,
        batchSize,
      },
    );
    expect(read.map((r) => r?.text)).toEqual(['7ABC123', 'OPEN', undefined]);
    expect(shapes.length).toBe(batchSize === 1 ? 2 : 1);
    // A shared batch is as wide as its widest crop.
    if (batchSize > 1) expect(shapes[0]).toEqual([2, 3, 48, 240]);
  });

  it('rejects an output with the wrong number of classes', async () => {
    const bad: InferenceSession = {
      run: async () => ({ probs: { data: new Float32Array(10), dims: [1, 2, 5] } }),
      release: async () => {},
    };
    await expect(readPlates(bad, SPEC, mips, boxes.slice(0, 1), { margin: 0, batchSize: 1 })).rejects.toThrow(
      /expected \[1, steps, 6625\]/,
    );
  });

  it('rejects a model that is not a recogniser', async () => {
    const det: ModelSpec = {
      ...SPEC,
      decoder: { kind: 'db', output: 'p', binaryThreshold: 0.3, unclipRatio: 1.5 },
    };
    await expect(
      readPlates(
        fakeSession(() => ''),
        det,
        mips,
        boxes,
        { margin: 0, batchSize: 1 },
      ),
    ).rejects.toThrow(/does not read text/);
  });
});

describe('verifyPlates', () => {
  const candidates = [
    { id: 'plate', box: imageBox(10, 10, 120, 24) },
    { id: 'sign', box: imageBox(10, 100, 48, 24) },
    { id: 'tiny', box: imageBox(200, 200, 20, 2) },
  ];
  const texts: Record<number, string> = { 240: '7ABC123', 96: 'OPEN' };

  it.each([
    { keepUnreadable: false, minScore: 0.3, kept: ['plate'] },
    { keepUnreadable: true, minScore: 0.3, kept: ['plate', 'tiny'] },
    { keepUnreadable: false, minScore: 0, kept: ['plate', 'sign'] },
  ])(
    'keepUnreadable $keepUnreadable, minScore $minScore → $kept',
    async ({ keepUnreadable, minScore, kept }) => {
      const session = fakeSession((w) => texts[w] ?? '');
      const options = { margin: 0, batchSize: 4, minScore, keepUnreadable };
      const out = await verifyPlates(session, SPEC, mips, candidates, options);
      expect(out.map((c) => c.id)).toEqual(kept);
    },
  );
});
