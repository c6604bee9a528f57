import { describe, expect, it } from 'vitest';
import { findContext, runDetectorInAreas, runDetectorOnVehicles } from './detect.ts';
import type { InferenceSession, ModelSpec, Tensor } from './engine.ts';
import { imageBox } from './geometry.ts';
import { VEHICLE_CONTEXT } from './plates.ts';
import { MipChain } from './sampling.ts';

const blank = (width: number, height: number) =>
  new MipChain({ width, height, channels: 3, data: new Uint8Array(width * height * 3) });

/** A session that answers every run with `answer(input dims)` and records the dims it saw. */
function fakeSession(answer: (dims: readonly number[]) => Record<string, Tensor>) {
  const seen: (readonly number[])[] = [];
  const session: InferenceSession = {
    run: async (feeds) => {
      const dims = Object.values(feeds)[0]!.dims;
      seen.push(dims);
      return answer(dims);
    },
    release: async () => {},
  };
  return { session, seen };
}

const CENTERNET: ModelSpec = {
  id: 'centernet-test',
  label: 'plate',
  description: 'test',
  file: 'x.onnx',
  sha256: '0',
  bytes: 0,
  source: { package: 'x', version: '0', path: 'x', license: 'MIT' },
  input: {
    name: 'images',
    width: 512,
    height: 512,
    layout: 'NHWC',
    channelOrder: 'RGB',
    mean: [0, 0, 0],
    std: [1 / 255, 1 / 255, 1 / 255],
  },
  decoder: { kind: 'centernet', output: 'detections', classes: [2, 3, 5, 7], personClasses: [0] },
  minObject: 16,
  maxScale: 1,
};

const DB: ModelSpec = {
  ...CENTERNET,
  id: 'db-test',
  input: {
    name: 'x',
    width: 960,
    height: 960,
    layout: 'NCHW',
    channelOrder: 'BGR',
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
    sizeMultiple: 32,
    minLongSide: 640,
  },
  decoder: { kind: 'db', output: 'map', binaryThreshold: 0.3, unclipRatio: 1.5 },
  maxScale: 2,
};

/** A DB probability map with one plate-shaped blob at shares (x, y) of the input. */
function plateAt(x: number, y: number) {
  return (dims: readonly number[]) => {
    const h = dims[2]!;
    const w = dims[3]!;
    const data = new Float32Array(w * h);
    const bw = Math.round(w * 0.2);
    const bh = Math.round(bw / 4);
    const x0 = Math.round(x * w - bw / 2);
    const y0 = Math.round(y * h - bh / 2);
    for (let j = y0; j < y0 + bh; j++) for (let i = x0; i < x0 + bw; i++) data[j * w + i] = 0.9;
    return { map: { data, dims: [1, 1, h, w] } };
  };
}

const DETECTOR = {
  minScore: 0.6,
  iouThreshold: 0.3,
  minSize: 12,
  maxViews: 12,
  maxInputPixels: 650_000,
  mirror: false,
  modelViewCaps: true,
  concurrency: 1,
};

describe('findContext', () => {
  it('maps vehicles and people from the letterboxed input back to the image and drops other classes', async () => {
    // A 1024x512 image letterboxes into 512x512 at scale 0.5 (content in the top half).
    const { session, seen } = fakeSession(() => ({
      detections: {
        data: Float32Array.from([
          100, 50, 300, 150, 0.8, 2, 10, 10, 60, 200, 0.9, 0, 0, 0, 40, 40, 0.2, 7, 0, 0, 50, 50, 0.95, 16,
        ]),
        dims: [1, 4, 6],
      },
    }));
    const scene = await findContext(session, CENTERNET, blank(1024, 512), 0.5);
    expect(seen).toEqual([[1, 512, 512, 3]]);
    expect(scene.map((o) => o.kind)).toEqual(['vehicle', 'person']);
    expect(scene[0]!.score).toBeCloseTo(0.8, 6);
    expect(scene[0]!.box).toEqual(imageBox(200, 100, 400, 200));
    expect(scene[1]!.box).toEqual(imageBox(20, 20, 100, 380));
  });

  it('refuses a model that is not a context model', async () => {
    const { session } = fakeSession(() => ({}));
    await expect(findContext(session, DB, blank(64, 64), 0.5)).rejects.toMatchObject({
      code: 'E_INVALID_CONFIG',
    });
  });
});

describe('runDetectorOnVehicles', () => {
  const vehicle = { kind: 'vehicle' as const, box: imageBox(1000, 300, 200, 150), score: 0.9 };
  /** Searches one 200x150 car in a 1080p frame whose DB map has a plate at shares (x, y) of the input. */
  const searchCar = async (x: number, y: number) => {
    const { session, seen } = fakeSession(plateAt(x, y));
    const found = await runDetectorOnVehicles(
      session,
      DB,
      blank(1920, 1080),
      [vehicle],
      DETECTOR,
      VEHICLE_CONTEXT,
    );
    return { found, seen };
  };

  it('looks inside each vehicle (with its margin) finer than the whole image, and keeps a plate where plates sit', async () => {
    const { found, seen } = await searchCar(0.5, 0.72);
    // The 240x180 search area is read at the model's 2x limit: 480x360 input.
    expect(seen).toEqual([[1, 3, 384, 480]]);
    expect(found).toHaveLength(1);
    const box = found[0]!.box;
    expect(box.x).toBeGreaterThan(1000);
    expect(box.x + box.width).toBeLessThan(1200);
    expect(box.y + box.height / 2).toBeGreaterThan(300 + 0.5 * 150);
  });

  it('drops text in the upper half of the vehicle (badges, lettering)', async () => {
    expect((await searchCar(0.5, 0.3)).found).toEqual([]);
  });

  it('searches only sure vehicles (not people), the surest first, at most maxVehicles', async () => {
    const { session, seen } = fakeSession(plateAt(0.5, 0.72));
    const vehicles = [
      { kind: 'vehicle' as const, box: imageBox(0, 0, 100, 80), score: 0.4 },
      { kind: 'person' as const, box: imageBox(0, 0, 100, 80), score: 0.99 },
      ...Array.from({ length: 10 }, (_, i) => ({
        kind: 'vehicle' as const,
        box: imageBox(i * 150, 500, 120, 90),
        score: 0.5 + i / 100,
      })),
    ];
    await runDetectorOnVehicles(session, DB, blank(1920, 1080), vehicles, DETECTOR, {
      ...VEHICLE_CONTEXT,
      maxVehicles: 3,
    });
    expect(seen).toHaveLength(3);
  });
});

describe('runDetectorInAreas', () => {
  // A fully convolutional model that may read a downscaled area whole beyond its nominal input.
  const WIDE: ModelSpec = {
    ...DB,
    id: 'wide-test',
    input: { ...DB.input, width: 640, height: 640, sizeMultiple: 32, maxWholePixels: 16 * 640 * 640 },
  };
  const { minLongSide: _floor, ...input } = WIDE.input;
  const spec = { ...WIDE, input };

  it('reads each area as a whole image under its own budget and maps finds into the image', async () => {
    const { session, seen } = fakeSession(plateAt(0.5, 0.5));
    const [first, second] = await runDetectorInAreas(
      session,
      spec,
      blank(4000, 3000),
      [
        // 2000x1000 at 500k input pixels: scale 0.5, one 1024x512 view.
        { box: imageBox(0, 0, 2000, 1000), maxInputPixels: 500_000 },
        // 1000x1000 at 90k: scale 0.3, one 320x320 view.
        { box: imageBox(3000, 2000, 1000, 1000), maxInputPixels: 90_000 },
      ],
      DETECTOR,
    );
    expect(seen).toEqual([
      [1, 3, 512, 1024],
      [1, 3, 320, 320],
    ]);
    expect(first).toHaveLength(1);
    expect(second).toHaveLength(1);
    const inSecond = second![0]!.box;
    expect(inSecond.x).toBeGreaterThan(3000);
    expect(inSecond.y).toBeGreaterThan(2000);
    expect(inSecond.x + inSecond.width / 2).toBeCloseTo(3000 + 320 / 0.3 / 2, -1);
  });

  it('uses the settings budget for an area without its own', async () => {
    const { session, seen } = fakeSession(plateAt(0.5, 0.5));
    await runDetectorInAreas(session, spec, blank(4000, 3000), [{ box: imageBox(0, 0, 2000, 1000) }], {
      ...DETECTOR,
      maxInputPixels: 200_000,
    });
    // sqrt(200k / 2M) = 0.316: 632x316 rounds up to 640x320.
    expect(seen).toEqual([[1, 3, 320, 640]]);
  });
});
