import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig, type NestorError, parseConfig } from '@nestor/core';
import { DEFAULT_MODELS_DIR } from '@nestor/models';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeNestor } from './nestor.ts';

const DEV = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/eval/dev/images');
const HAS_DEV = existsSync(DEV);
const nestor = createNodeNestor(defaultConfig(), DEFAULT_MODELS_DIR);
afterAll(() => nestor.dispose());

/** A noisy 200x150 PNG: detail everywhere, no faces, no text. */
async function noisyPng(): Promise<Uint8Array> {
  const raw = Buffer.alloc(200 * 150 * 3);
  let seed = 7;
  for (let i = 0; i < raw.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    raw[i] = seed >> 23;
  }
  return new Uint8Array(
    await sharp(raw, { raw: { width: 200, height: 150, channels: 3 } })
      .png()
      .toBuffer(),
  );
}

const pixels = async (bytes: Uint8Array) => new Uint8Array(await sharp(bytes).removeAlpha().raw().toBuffer());

type Labelled = { x: number; y: number; w: number; h: number };

/** How many labelled boxes have a detection centred on them, within half their size. */
const centredOn = (
  r: { detections: { box: { x: number; y: number; width: number; height: number } }[] },
  labels: readonly Labelled[],
) =>
  labels.filter((g) =>
    r.detections.some(
      (d) =>
        Math.abs(d.box.x + d.box.width / 2 - (g.x + g.w / 2)) < g.w / 2 &&
        Math.abs(d.box.y + d.box.height / 2 - (g.y + g.h / 2)) < g.h / 2,
    ),
  ).length;

describe('pipeline (onnxruntime-node + sharp)', () => {
  it('honours a manual region exactly: pixels change inside it and nowhere else', async () => {
    const input = await noisyPng();
    const out = await nestor.anonymize(input, {
      addRegions: [{ label: 'face', x: 50, y: 40, width: 60, height: 70 }],
      feather: 0,
    });
    expect(out.format).toBe('png');
    expect(out.mimeType).toBe('image/png');
    const manual = out.result.detections.filter((d) => d.source === 'manual');
    expect(manual).toEqual([
      {
        label: 'face',
        score: 1,
        box: { x: 50, y: 40, width: 60, height: 70 },
        region: { x: 50, y: 40, width: 60, height: 70 },
        shape: 'ellipse',
        source: 'manual',
      },
    ]);
    const before = await pixels(input);
    const after = await pixels(out.bytes);
    let changedInside = 0;
    for (let y = 0; y < 150; y++) {
      for (let x = 0; x < 200; x++) {
        const inside = ((x + 0.5 - 80) / 30) ** 2 + ((y + 0.5 - 75) / 35) ** 2 <= 1;
        const i = (y * 200 + x) * 3;
        const same =
          before[i] === after[i] && before[i + 1] === after[i + 1] && before[i + 2] === after[i + 2];
        if (!inside) expect(same, `pixel ${x},${y}`).toBe(true);
        else if (!same) changedInside++;
      }
    }
    expect(changedInside).toBeGreaterThan(0.9 * Math.PI * 30 * 35);
  });

  it('returns the shared detections schema in detect mode, without touching pixels', async () => {
    const result = await nestor.detect(await noisyPng(), {
      addRegions: [{ label: 'plate', x: 10, y: 10, width: 40, height: 12 }],
    });
    expect(Object.keys(result).sort()).toEqual([
      'counts',
      'detections',
      'engine',
      'image',
      'models',
      'timings',
    ]);
    expect(result.image).toEqual({ width: 200, height: 150, format: 'png' });
    expect(result.counts.plate).toBeGreaterThanOrEqual(1);
    expect(result.engine).toBe('onnxruntime-node/cpu');
    expect(result.models.face).toMatch(
      /^ssd-mobilenet-v1-face@sha256:[0-9a-f]{64}\+blazeface-back-256@sha256:[0-9a-f]{64}\+retinaface-mnet025@sha256:[0-9a-f]{64}$/,
    );
    expect(result.models.plate).toMatch(
      /^ppocr-v4-det@sha256:[0-9a-f]{64}\+ppocr-v4-rec@sha256:[0-9a-f]{64}\+centernet-coco@sha256:[0-9a-f]{64}$/,
    );
    for (const k of ['decodeMs', 'detectMs', 'redactMs', 'encodeMs', 'totalMs'] as const)
      expect(result.timings[k]).toBeGreaterThanOrEqual(0);
  });

  it.each([
    { preset: 'fast', face: ['ssd-mobilenet-v1-face'], plate: ['ppocr-v4-det', 'ppocr-v4-rec'] },
    {
      preset: 'thorough',
      face: ['ssd-mobilenet-v1-face', 'blazeface-full-range', 'blazeface-back-256', 'retinaface-mnet025'],
      plate: ['ppocr-v4-det', 'ppocr-v4-rec'],
    },
  ] as const)('reports the models a $preset run uses', ({ preset, face, plate }) => {
    const ids = nestor.modelIds({ preset });
    const names = (joined = '') => joined.split('+').map((id) => id.split('@')[0]);
    expect([names(ids.face), names(ids.plate)]).toEqual([face, plate]);
  });

  it('converts formats and writes GIF input back as PNG', async () => {
    const gif = new Uint8Array(
      await sharp(await noisyPng())
        .gif()
        .toBuffer(),
    );
    const out = await nestor.anonymize(gif);
    expect(out.format).toBe('png');
    expect((await sharp(out.bytes).metadata()).format).toBe('png');
    const webp = await nestor.anonymize(gif, { format: 'webp', quality: 50 });
    expect((await sharp(webp.bytes).metadata()).format).toBe('webp');
  });

  it('refuses more bytes than limits.maxBytes before decoding', async () => {
    const small = createNodeNestor(parseConfig({ limits: { maxBytes: 1000 } }), DEFAULT_MODELS_DIR);
    const error = await small.detect(await noisyPng()).catch((e: unknown) => e);
    expect((error as NestorError).code).toBe('E_INPUT_TOO_LARGE');
    await small.dispose();
  });

  it('rejects an unknown model in the config with E_INVALID_CONFIG', async () => {
    const broken = createNodeNestor(
      parseConfig({ classes: { face: { models: ['no-such-model'] } } }),
      DEFAULT_MODELS_DIR,
    );
    const error = await broken.detect(await noisyPng()).catch((e: unknown) => e);
    expect((error as NestorError).code).toBe('E_INVALID_CONFIG');
    await broken.dispose();
  });

  it.skipIf(!HAS_DEV)(
    'finds and covers the faces of a street photo, and drops those a person suppresses',
    async () => {
      const bytes = new Uint8Array(readFileSync(path.join(DEV, 'face-0003.jpg')));
      const result = await nestor.detect(bytes, { targets: ['face'] });
      expect(result.counts.face).toBeGreaterThanOrEqual(2);
      for (const d of result.detections) {
        expect(d.region.width).toBeGreaterThanOrEqual(d.box.width);
        expect(d.region.x + d.region.width).toBeLessThanOrEqual(result.image.width);
        expect(d.shape).toBe('ellipse');
      }
      const first = result.detections[0]!.box;
      const suppressed = await nestor.detect(bytes, { targets: ['face'], suppress: [first] });
      expect(suppressed.counts.face).toBe(result.counts.face - 1);
    },
  );

  it.skipIf(!HAS_DEV)('finds the plate of a car photo', async () => {
    const bytes = new Uint8Array(readFileSync(path.join(DEV, 'plate-0002.jpg')));
    const result = await nestor.detect(bytes, { targets: ['plate'] });
    expect(result.counts.plate).toBeGreaterThanOrEqual(1);
    expect(result.detections.every((d) => d.shape === 'rect')).toBe(true);
  });

  it.skipIf(!HAS_DEV)(
    'finds the plate of a car photo exposed as at night, and leaves its pixels dark',
    async () => {
      // Grey levels v -> 255 x 0.4 x (v / 255)^3: the photo's median falls from 83 to 4. Read as it
      // is, the plate detector finds nothing; through the low-light curve, the plate.
      const { data, info } = await sharp(path.join(DEV, 'plate-0002.jpg'))
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      for (let i = 0; i < data.length; i++) data[i] = Math.round(255 * 0.4 * (data[i]! / 255) ** 3);
      const raw = { width: info.width, height: info.height, channels: 3 as const };
      const dark = new Uint8Array(await sharp(data, { raw }).png().toBuffer());
      const result = await nestor.anonymize(dark, { targets: ['plate'], method: 'solid' });
      expect(result.result.counts.plate).toBe(1);
      const before = await pixels(dark);
      const after = await pixels(result.bytes);
      const { x, y, width, height } = result.result.detections[0]!.region;
      // Outside the region the pixels are the dark ones that came in, not the lifted copy.
      const i = (Math.max(0, y - 5) * info.width + Math.max(0, x - 5)) * 3;
      expect([...after.slice(i, i + 3)]).toEqual([...before.slice(i, i + 3)]);
      expect(width * height).toBeGreaterThan(0);
    },
  );

  it.skipIf(!HAS_DEV)(
    'finds a dash-cam plate only by searching the car again (vehicle context), nowhere else in the frame',
    { timeout: 60_000 },
    async () => {
      // 1280x720: the whole-image pass sees it at 0.65 MP and misses the 72x22 plate of the car ahead.
      const bytes = new Uint8Array(readFileSync(path.join(DEV, 'plate-0228.jpg')));
      const plate = { x: 1061, y: 413, width: 72, height: 22 };
      const covers = (r: { detections: { box: typeof plate }[] }) =>
        r.detections.some(
          (d) =>
            Math.abs(d.box.x + d.box.width / 2 - (plate.x + plate.width / 2)) < plate.width / 2 &&
            Math.abs(d.box.y + d.box.height / 2 - (plate.y + plate.height / 2)) < plate.height,
        );
      const withContext = await nestor.detect(bytes, { targets: ['plate'] });
      expect(covers(withContext)).toBe(true);
      const without = createNodeNestor(
        parseConfig({ classes: { plate: { context: null } } }),
        DEFAULT_MODELS_DIR,
      );
      try {
        const plain = await without.detect(bytes, { targets: ['plate'] });
        expect(covers(plain)).toBe(false);
        // The vehicle search only adds: every plate the whole-image pass found is still there.
        for (const d of plain.detections)
          expect(withContext.detections.map((w) => w.box)).toContainEqual(d.box);
      } finally {
        await without.dispose();
      }
    },
  );

  it.skipIf(!HAS_DEV)(
    'RetinaFace alone finds each labelled face of a group photo',
    { timeout: 60_000 },
    async () => {
      const labels = (
        JSON.parse(readFileSync(path.join(DEV, '../annotations.json'), 'utf8')) as {
          images: { file: string; boxes: { label: string; x: number; y: number; w: number; h: number }[] }[];
        }
      ).images.find((i) => i.file === 'images/face-0367.jpg')!.boxes;
      const retina = createNodeNestor(
        parseConfig({ classes: { face: { models: ['retinaface-mnet025'], weights: {}, minScore: 0.5 } } }),
        DEFAULT_MODELS_DIR,
      );
      try {
        // The five faces' surroundings (1840x820), so that its one whole-image view shows them at 33-49 px.
        const crop = { left: 500, top: 600, width: 1840, height: 820 };
        const bytes = new Uint8Array(
          await sharp(path.join(DEV, 'face-0367.jpg')).extract(crop).png().toBuffer(),
        );
        const result = await retina.detect(bytes, { targets: ['face'] });
        expect(result.models.face).toMatch(/^retinaface-mnet025@sha256:[0-9a-f]{64}$/);
        expect(labels.length).toBe(5);
        for (const g of labels) {
          const centred = result.detections.some(
            (d) =>
              Math.abs(d.box.x + d.box.width / 2 - (g.x - crop.left + g.w / 2)) < g.w / 2 &&
              Math.abs(d.box.y + d.box.height / 2 - (g.y - crop.top + g.h / 2)) < g.h / 2 &&
              d.box.width > g.w / 2 &&
              d.box.width < g.w * 2,
          );
          expect(centred).toBe(true);
        }
        expect(result.counts.face).toBeLessThanOrEqual(labels.length + 1);
      } finally {
        await retina.dispose();
      }
    },
  );

  it.skipIf(!HAS_DEV)(
    'reads a sideways group photo at quarter turns when asked, and places the faces upright',
    { timeout: 60_000 },
    async () => {
      const labels = (
        JSON.parse(readFileSync(path.join(DEV, '../annotations.json'), 'utf8')) as {
          images: { file: string; boxes: { x: number; y: number; w: number; h: number }[] }[];
        }
      ).images.find((i) => i.file === 'images/face-0367.jpg')!.boxes;
      // The five faces' surroundings (1840x820) turned 90° clockwise, as a photo that lost its orientation.
      const crop = { left: 500, top: 600, width: 1840, height: 820 };
      const bytes = new Uint8Array(
        await sharp(path.join(DEV, 'face-0367.jpg')).extract(crop).rotate(90).jpeg().toBuffer(),
      );
      const sideways = labels.map((g) => ({
        x: crop.height - (g.y - crop.top) - g.h,
        y: g.x - crop.left,
        w: g.h,
        h: g.w,
      }));
      const found = (r: Parameters<typeof centredOn>[0]) => centredOn(r, sideways);
      const turning = createNodeNestor(
        parseConfig({ classes: { face: { presets: { balanced: { faceTurns: [90, 270] } } } } }),
        DEFAULT_MODELS_DIR,
      );
      try {
        expect(found(await nestor.detect(bytes, { targets: ['face'] }))).toBeLessThanOrEqual(1);
        const turned = await turning.detect(bytes, { targets: ['face'] });
        expect(found(turned)).toBe(5);
        // Boxes are in the photo's own frame: a sideways face is wider than tall.
        for (const d of turned.detections) expect(d.box.width).toBeGreaterThan(d.box.height);
      } finally {
        await turning.dispose();
      }
    },
  );

  it.skipIf(!HAS_DEV)(
    'the thorough preset finds 12-14 px faces in a 4000 px photo',
    // Two 12 MP photos through four face models' full pyramids: about 70 s on an idle 2-core machine.
    { timeout: 300_000 },
    async () => {
      // An AFW group photo (five faces) shrunk until its faces are 12 or 14 px (short side), on a 4000x3000 canvas.
      const faces = [
        { x: 599, y: 706.5, w: 141, h: 129 },
        { x: 1007, y: 1183.5, w: 123, h: 117 },
        { x: 1442, y: 847.5, w: 105, h: 105 },
        { x: 1655, y: 1204.5, w: 114, h: 120 },
        { x: 2144, y: 949.5, w: 96, h: 87 },
      ];
      const source = path.join(DEV, 'face-0367.jpg');
      const { width } = await sharp(source).metadata();
      const thorough = createNodeNestor(
        parseConfig({ preset: 'thorough', targets: ['face'] }),
        DEFAULT_MODELS_DIR,
      );
      try {
        for (const [side, least] of [
          [12, 3],
          [14, 5],
        ] as const) {
          const k = side / 87;
          const small = await sharp(source)
            .resize(Math.round(width! * k))
            .toBuffer();
          const canvas = await sharp({
            create: { width: 4000, height: 3000, channels: 3, background: '#777' },
          })
            .composite([{ input: small, left: 1700, top: 1300 }])
            .jpeg()
            .toBuffer();
          const result = await thorough.detect(new Uint8Array(canvas));
          const found = faces.filter((f) =>
            result.detections.some(
              (d) =>
                Math.abs(d.box.x + d.box.width / 2 - (1700 + (f.x + f.w / 2) * k)) < f.w * k &&
                Math.abs(d.box.y + d.box.height / 2 - (1300 + (f.y + f.h / 2) * k)) < f.h * k,
            ),
          );
          expect(found.length, `${side} px faces`).toBeGreaterThanOrEqual(least);
        }
      } finally {
        await thorough.dispose();
      }
    },
  );

  it.skipIf(!HAS_DEV)(
    'balanced searches a crowd again, finer, where a large photo shows faces at its resolution limit',
    { timeout: 120_000 },
    async () => {
      // An AFW group of five faces twice on a 4000x3000 canvas: faces of 90-146 px, which the first
      // pass reads at 21-34 input px, and beside them the same group at half that size, 45-73 px.
      const crop = { left: 500, top: 600, width: 1840, height: 820 };
      const faces = [
        { x: 99, y: 106.5, w: 141, h: 129 },
        { x: 507, y: 583.5, w: 123, h: 117 },
        { x: 942, y: 247.5, w: 105, h: 105 },
        { x: 1155, y: 604.5, w: 114, h: 120 },
        { x: 1644, y: 349.5, w: 96, h: 87 },
      ];
      const group = (k: number) =>
        sharp(path.join(DEV, 'face-0367.jpg'))
          .extract(crop)
          .resize(Math.round(crop.width * k))
          .toBuffer();
      const near = { k: 90 / 87, left: 300, top: 1200 };
      const far = { k: 45 / 87, left: 300 + Math.round(crop.width * near.k), top: 1200 };
      const canvas = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#777' } })
        .composite([
          { input: await group(near.k), left: near.left, top: near.top },
          { input: await group(far.k), left: far.left, top: far.top },
        ])
        .jpeg()
        .toBuffer();
      // The labels of one copy of the group, in canvas pixels.
      const placed = (g: typeof near): Labelled[] =>
        faces.map((f) => ({ x: g.left + f.x * g.k, y: g.top + f.y * g.k, w: f.w * g.k, h: f.h * g.k }));
      const foundIn = (r: Parameters<typeof centredOn>[0], g: typeof near) => centredOn(r, placed(g));
      const withCrowds = await nestor.detect(new Uint8Array(canvas), { targets: ['face'] });
      const once = createNodeNestor(
        parseConfig({ classes: { face: { presets: { balanced: { crowdInputPixels: 0 } } } } }),
        DEFAULT_MODELS_DIR,
      );
      try {
        const plain = await once.detect(new Uint8Array(canvas), { targets: ['face'] });
        expect([foundIn(plain, near), foundIn(withCrowds, near)]).toEqual([5, 5]);
        expect(foundIn(plain, far)).toBeLessThanOrEqual(1);
        expect(foundIn(withCrowds, far)).toBeGreaterThanOrEqual(4);
        // The second search only adds: every face the first pass found is still there.
        for (const d of plain.detections)
          expect(withCrowds.detections.map((w) => w.box)).toContainEqual(d.box);
      } finally {
        await once.dispose();
      }
    },
  );

  it.skipIf(HAS_DEV)(
    `skipped: ${DEV} is absent (clone with ../shared beside the repository to run the photo tests)`,
    () => {},
  );
});
