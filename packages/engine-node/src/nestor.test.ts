import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type DetectionResult,
  defaultConfig,
  type NestorError,
  type Progress,
  parseConfig,
} from '@nestor/core';
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
      // No vehicle search at full detail, but the scene checks read CenterNet where plates were found.
      plate: ['ppocr-v4-det', 'ppocr-v4-rec', 'centernet-coco'],
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

  it('reads an HEIC photo upright and writes it as JPEG unless asked otherwise', async () => {
    const heic = new Uint8Array(readFileSync(new URL('../fixtures/blocks-irot90.heic', import.meta.url)));
    const region = { label: 'plate' as const, x: 8, y: 8, width: 40, height: 30 };
    const out = await nestor.anonymize(heic, { addRegions: [region], feather: 0 });
    expect([out.format, out.mimeType]).toEqual(['jpeg', 'image/jpeg']);
    expect(out.result.image).toEqual({ width: 64, height: 96, format: 'heic' });
    const meta = await sharp(out.bytes).metadata();
    expect([meta.format, meta.width, meta.height, meta.exif]).toEqual(['jpeg', 64, 96, undefined]);
    const png = await nestor.anonymize(heic, { format: 'png' });
    expect((await sharp(png.bytes).metadata()).format).toBe('png');
    expect((await nestor.detect(heic)).image.format).toBe('heic');
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
    'reads the scene where plates were found: lettering on a shirt is no plate, a car read as a face no face',
    { timeout: 60_000 },
    async () => {
      const photo = (name: string) => new Uint8Array(readFileSync(path.join(DEV, name)));
      const count = (r: DetectionResult, label: string) =>
        r.detections.filter((d) => d.label === label).length;
      // Without a context model (no scene checks), the same ensemble reads as plates the lettering
      // on a T-shirt, and the back of a car as a face around its plate.
      const blind = createNodeNestor(
        parseConfig({ classes: { plate: { context: null } } }),
        DEFAULT_MODELS_DIR,
      );
      try {
        const shirt = photo('face-0012.jpg');
        const [seen, unseen] = await Promise.all([nestor.detect(shirt), blind.detect(shirt)]);
        expect(count(unseen, 'plate')).toBeGreaterThan(0);
        expect(count(seen, 'plate')).toBe(0);
        expect(count(seen, 'face')).toBe(count(unseen, 'face'));

        const car = photo('plate-0043.jpg');
        const [read, unread] = await Promise.all([nestor.detect(car), blind.detect(car)]);
        const wide = (r: DetectionResult) =>
          r.detections.filter((d) => d.label === 'face' && d.box.width > 300);
        expect(wide(unread)).toHaveLength(1);
        expect(wide(read)).toHaveLength(0);
        // The plates stay: only the false face goes.
        expect(read.detections.filter((d) => d.label === 'plate').map((d) => d.box)).toEqual(
          unread.detections.filter((d) => d.label === 'plate').map((d) => d.box),
        );
      } finally {
        await blind.dispose();
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

type Rect = { x: number; y: number; width: number; height: number };

/** Frames of an animated GIF or WebP as RGB, one buffer per frame. */
async function rgbFrames(bytes: Uint8Array): Promise<{ frames: Buffer[]; width: number; height: number }> {
  const { data, info } = await sharp(bytes, { pages: -1 })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const height = info.pageHeight ?? info.height;
  const size = info.width * height * 3;
  const frames = Array.from({ length: info.height / height }, (_, i) =>
    data.subarray(i * size, (i + 1) * size),
  );
  return { frames, width: info.width, height };
}

/** Mean absolute difference of two RGB frames over the pixels where `where(x, y)` holds. */
function meanDiff(a: Buffer, b: Buffer, width: number, where: (x: number, y: number) => boolean): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i += 3) {
    const p = i / 3;
    if (!where(p % width, Math.floor(p / width))) continue;
    sum += Math.abs(a[i]! - b[i]!) + Math.abs(a[i + 1]! - b[i + 1]!) + Math.abs(a[i + 2]! - b[i + 2]!);
    n += 3;
  }
  return sum / n;
}

const inside =
  (r: Rect, margin = 0) =>
  (x: number, y: number) =>
    x >= r.x - margin && x < r.x + r.width + margin && y >= r.y - margin && y < r.y + r.height + margin;

/** Animated GIF or WebP of `frames` pictures, 80 ms each but the last (400 ms), played twice. */
async function animate(pngs: Buffer[], format: 'gif' | 'webp'): Promise<Uint8Array> {
  const timing = { delay: pngs.map((_, i) => (i === pngs.length - 1 ? 400 : 80)), loop: 2 };
  const joined = sharp(pngs, { join: { animated: true } });
  return new Uint8Array(
    await (format === 'gif' ? joined.gif(timing) : joined.webp({ ...timing, quality: 95 })).toBuffer(),
  );
}

/** A 240x160 scene of a few flat colours (GIF keeps them exactly) whose squares move a little per frame. */
async function scene(frame: number): Promise<Buffer> {
  const square = (background: string) => ({
    create: { width: 30, height: 30, channels: 3 as const, background },
  });
  return sharp({ create: { width: 240, height: 160, channels: 3, background: '#406080' } })
    .composite([
      { input: square('#e0c020'), left: 10 + frame * 3, top: 20 },
      { input: square('#20a040'), left: 150, top: 100 - frame * 2 },
      { input: square('#ffffff'), left: 60 + frame * 5, top: 60 },
    ])
    .png()
    .toBuffer();
}

describe('animated GIF and WebP (pipeline)', () => {
  const manual: Rect = { x: 60, y: 50, width: 70, height: 60 };

  it.each(['gif', 'webp'] as const)(
    'covers a manual region on every frame of an animated %s; frames, delays and loop kept',
    async (format) => {
      const input = await animate(await Promise.all([0, 1, 2, 3, 4].map(scene)), format);
      const out = await nestor.anonymize(input, {
        targets: ['face'],
        addRegions: [{ label: 'face', ...manual, shape: 'rect' }],
        feather: 0,
        method: 'solid',
      });
      expect(out.format).toBe(format);
      const meta = await sharp(out.bytes, { pages: -1 }).metadata();
      expect([meta.format, meta.pages, meta.pageHeight, meta.loop]).toEqual([format, 5, 160, 2]);
      expect(meta.delay).toEqual([80, 80, 80, 80, 400]);
      expect(out.result.image).toEqual({
        width: 240,
        height: 160,
        format,
        frames: 5,
        delaysMs: [80, 80, 80, 80, 400],
        loop: 2,
      });
      expect(out.result.detections).toEqual([]);
      expect(out.result.frames?.map((f) => [f.index, f.timeMs, f.detections.map((d) => d.source)])).toEqual([
        [0, 0, ['manual']],
        [1, 80, ['manual']],
        [2, 160, ['manual']],
        [3, 240, ['manual']],
        [4, 320, ['manual']],
      ]);
      const before = await rgbFrames(input);
      const after = await rgbFrames(out.bytes);
      for (const [i, frame] of after.frames.entries()) {
        const far = (x: number, y: number) => !inside(manual, 4)(x, y);
        expect(
          meanDiff(before.frames[i]!, frame, 240, inside(manual, -2)),
          `frame ${i} inside`,
        ).toBeGreaterThan(40);
        expect(meanDiff(before.frames[i]!, frame, 240, far), `frame ${i} far`).toBeLessThan(2);
      }
    },
  );

  it('covers a timed region only on the frames of its span; a page of a TIFF has no time and takes it whole', async () => {
    const input = await animate(await Promise.all([0, 1, 2, 3, 4].map(scene)), 'gif');
    const out = await nestor.anonymize(input, {
      targets: ['face'],
      // Frames start at 0, 80, 160, 240 and 320 ms: this span holds on frames 1 and 2.
      addRegions: [{ label: 'face', ...manual, shape: 'rect', fromMs: 50, toMs: 200 }],
      feather: 0,
      method: 'solid',
    });
    expect(out.result.frames?.map((f) => [f.index, f.timeMs])).toEqual([
      [1, 80],
      [2, 160],
    ]);
    expect(out.result.counts.face).toBe(1);
    const before = await rgbFrames(input);
    const after = await rgbFrames(out.bytes);
    const covered = after.frames.map(
      (frame, i) => meanDiff(before.frames[i]!, frame, 240, inside(manual, -2)) > 40,
    );
    expect(covered).toEqual([false, true, true, false, false]);

    const pages = new Uint8Array(
      await sharp([await scene(0), await scene(1)], { join: { animated: true } })
        .tiff()
        .toBuffer(),
    );
    const paged = await nestor.detect(pages, {
      targets: ['face'],
      addRegions: [{ label: 'face', ...manual, fromMs: 50, toMs: 200 }],
    });
    expect(paged.frames?.map((f) => [f.index, f.timeMs, f.detections.length])).toEqual([
      [0, 0, 1],
      [1, 0, 1],
    ]);
  });

  it('refuses a format that cannot animate, before any work, and detects whatever the format', async () => {
    const input = await animate(await Promise.all([0, 1].map(scene)), 'gif');
    await expect(nestor.anonymize(input, { format: 'jpeg' })).rejects.toThrow(
      'Expected one of "same", "gif", "webp" for an animated image for format but received "jpeg" of type string',
    );
    const error = await nestor.anonymize(input, { format: 'png' }).catch((e: unknown) => e);
    expect((error as NestorError).code).toBe('E_INVALID_OPTION');
    const detected = await nestor.detect(input, { format: 'jpeg', targets: ['face'] });
    expect(detected.image.frames).toBe(2);
    const webp = await nestor.anonymize(input, { format: 'webp', targets: ['face'] });
    expect((await sharp(webp.bytes, { pages: -1 }).metadata()).pages).toBe(2);
  });

  it('still writes a one-frame GIF as PNG, with the still-image result', async () => {
    const out = await nestor.anonymize(
      new Uint8Array(
        await sharp(await scene(0))
          .gif()
          .toBuffer(),
      ),
      {
        targets: ['face'],
      },
    );
    expect(out.format).toBe('png');
    expect([out.result.image, out.result.frames, out.result.tracks]).toEqual([
      { width: 240, height: 160, format: 'gif' },
      undefined,
      undefined,
    ]);
  });

  /** A face of the dev set (its labelled box: 32, 33, 94x126 in the crop) walking right on flat grey. */
  const FACE_IN_CROP = { x: 32, y: 33, width: 94, height: 126 };
  const walkingFace = async (frames: number, step: number) => {
    const face = await sharp(path.join(DEV, 'face-0007.jpg'))
      .extract({ left: 80, top: 60, width: 160, height: 200 })
      .png()
      .toBuffer();
    const lefts = Array.from({ length: frames }, (_, i) => 10 + i * step);
    const pngs = await Promise.all(
      lefts.map((left) =>
        sharp({ create: { width: 400, height: 240, channels: 3, background: '#707070' } })
          .composite([{ input: face, left, top: 20 }])
          .png()
          .toBuffer(),
      ),
    );
    return {
      pngs,
      boxes: lefts.map((left) => ({ ...FACE_IN_CROP, x: FACE_IN_CROP.x + left, y: FACE_IN_CROP.y + 20 })),
    };
  };
  const centredOnBox = (detections: { box: Rect }[], g: Rect) =>
    detections.some(
      (d) =>
        Math.abs(d.box.x + d.box.width / 2 - (g.x + g.width / 2)) < g.width / 2 &&
        Math.abs(d.box.y + d.box.height / 2 - (g.y + g.height / 2)) < g.height / 2,
    );

  it.skipIf(!HAS_DEV).each(['gif', 'webp'] as const)(
    'finds and redacts a moving face on every frame of an animated %s, and nothing far from it',
    async (format) => {
      const { pngs, boxes } = await walkingFace(8, 25);
      const input = await animate(pngs, format);
      const detected: DetectionResult = await nestor.detect(input, { targets: ['face'] });
      expect(detected.detections).toEqual([]);
      expect(detected.counts.face).toBe(1);
      expect(detected.tracks).toHaveLength(1);
      expect(detected.frames?.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      for (const f of detected.frames ?? []) {
        expect(centredOnBox(f.detections, boxes[f.index]!), `frame ${f.index}`).toBe(true);
        expect(f.detections.every((d) => d.track === 1 && d.label === 'face')).toBe(true);
      }
      const out = await nestor.anonymize(input, { targets: ['face'] });
      const before = await rgbFrames(input);
      const after = await rgbFrames(out.bytes);
      expect(after.frames).toHaveLength(8);
      for (const [i, frame] of after.frames.entries()) {
        const face = boxes[i]!;
        const region = out.result.frames![i]!.detections[0]!.region;
        expect(meanDiff(before.frames[i]!, frame, 400, inside(face, -10)), `frame ${i} face`).toBeGreaterThan(
          8,
        );
        const far = (x: number, y: number) => !inside(region, 6)(x, y);
        expect(meanDiff(before.frames[i]!, frame, 400, far), `frame ${i} far`).toBeLessThan(2);
      }
    },
  );

  it.skipIf(!HAS_DEV)(
    'covers every frame of a long animation from a detector run every video.detectEvery frames',
    async () => {
      const { pngs, boxes } = await walkingFace(36, 6);
      const result = await nestor.detect(await animate(pngs, 'gif'), { targets: ['face'] });
      expect(result.tracks).toHaveLength(1);
      // 36 frames, a run on every 5th and on the last: frames 0, 5, … 35
      expect(result.tracks![0]!.sightings).toBeLessThanOrEqual(8);
      expect(result.frames?.map((f) => f.index)).toEqual(boxes.map((_, i) => i));
      for (const f of result.frames ?? []) {
        const region = f.detections[0]!.region;
        const face = boxes[f.index]!;
        expect(
          inside(region)(face.x, face.y) && inside(region)(face.x + face.width - 1, face.y + face.height - 1),
        ).toBe(true);
      }
    },
  );
});

/** PNGs of one size as the pages of one TIFF. */
async function tiffPages(pngs: Buffer[]): Promise<Uint8Array> {
  return new Uint8Array(
    await sharp(pngs, { join: { animated: true } })
      .tiff({ compression: 'lzw' })
      .toBuffer(),
  );
}

describe('multi-page TIFF (pipeline)', () => {
  const manual: Rect = { x: 60, y: 50, width: 70, height: 60 };

  it('covers a manual region on every page and writes every page back', async () => {
    const input = await tiffPages(await Promise.all([0, 1, 2].map(scene)));
    const out = await nestor.anonymize(input, {
      targets: ['face'],
      addRegions: [{ label: 'face', ...manual, shape: 'rect' }],
      feather: 0,
      method: 'solid',
    });
    expect(out.format).toBe('tiff');
    const meta = await sharp(out.bytes).metadata();
    expect([meta.format, meta.pages, meta.width, meta.height]).toEqual(['tiff', 3, 240, 160]);
    expect(out.result.image).toEqual({ width: 240, height: 160, format: 'tiff', frames: 3 });
    expect([out.result.detections, out.result.tracks, out.result.counts]).toEqual([
      [],
      [],
      { face: 1, plate: 0 },
    ]);
    expect(out.result.frames?.map((f) => [f.index, f.timeMs, f.detections.map((d) => d.source)])).toEqual([
      [0, 0, ['manual']],
      [1, 0, ['manual']],
      [2, 0, ['manual']],
    ]);
    const before = await rgbFrames(input);
    const after = await rgbFrames(out.bytes);
    for (const [i, page] of after.frames.entries()) {
      const far = (x: number, y: number) => !inside(manual, 4)(x, y);
      expect(meanDiff(before.frames[i]!, page, 240, inside(manual, -2)), `page ${i} inside`).toBeGreaterThan(
        40,
      );
      expect(meanDiff(before.frames[i]!, page, 240, far), `page ${i} far`).toBe(0);
    }
  });

  it('refuses a format other than TIFF, before any work, and detects whatever the format', async () => {
    const input = await tiffPages(await Promise.all([0, 1].map(scene)));
    const error = await nestor.anonymize(input, { format: 'jpeg' }).catch((e: unknown) => e);
    expect((error as NestorError).code).toBe('E_INVALID_OPTION');
    expect((error as NestorError).message).toBe(
      'Expected one of "same", "tiff" for a multi-page TIFF for format but received "jpeg" of type string',
    );
    expect((await nestor.detect(input, { format: 'jpeg', targets: ['face'] })).image.frames).toBe(2);
  });

  it.skipIf(!HAS_DEV)(
    'detects each page alone: no region is carried to a page without the face',
    async () => {
      const face = await sharp(path.join(DEV, 'face-0007.jpg'))
        .extract({ left: 80, top: 60, width: 160, height: 200 })
        .png()
        .toBuffer();
      const grey = () => sharp({ create: { width: 400, height: 240, channels: 3, background: '#707070' } });
      const withFace = await grey()
        .composite([{ input: face, left: 100, top: 20 }])
        .png()
        .toBuffer();
      const input = await tiffPages([withFace, await grey().png().toBuffer(), withFace]);
      const out = await nestor.anonymize(input, { targets: ['face'] });
      expect(out.result.counts.face).toBe(2);
      expect(out.result.frames?.map((f) => f.index)).toEqual([0, 2]);
      for (const f of out.result.frames ?? []) {
        expect(f.detections.map((d) => [d.label, d.source, d.track])).toEqual([['face', 'model', undefined]]);
      }
      const before = await rgbFrames(input);
      const after = await rgbFrames(out.bytes);
      expect(meanDiff(before.frames[1]!, after.frames[1]!, 400, () => true)).toBe(0);
      const box = { x: 132, y: 53, width: 94, height: 126 };
      for (const i of [0, 2]) {
        expect(
          meanDiff(before.frames[i]!, after.frames[i]!, 400, inside(box, -10)),
          `page ${i}`,
        ).toBeGreaterThan(8);
      }
    },
  );
});

describe('progress (pipeline)', () => {
  /** A pipeline whose inference runs are counted as the engine sees them. */
  function counting() {
    let runs = 0;
    const counted = createNodeNestor(defaultConfig(), DEFAULT_MODELS_DIR, ({ engine, codec }) => ({
      codec,
      engine: {
        name: engine.name,
        async loadModel(spec) {
          const session = await engine.loadModel(spec);
          return {
            run: (feeds) => {
              runs++;
              return session.run(feeds);
            },
            release: () => session.release(),
          };
        },
      },
    }));
    return { nestor: counted, runs: () => runs };
  }
  const counted = counting();
  afterAll(() => counted.nestor.dispose());

  /** The stages in the order first reported. */
  const stages = (seen: readonly Progress[]) => [...new Set(seen.map((p) => p.stage))];

  /** Every run planned before it finished, and the last report has every planned run done, as the engine counted them. */
  function expectEveryRunCounted(seen: readonly Progress[], runs: number) {
    for (const p of seen) expect(p.runs).toBeLessThanOrEqual(p.plannedRuns);
    expect(seen.at(-1)).toMatchObject({ runs, plannedRuns: runs });
    expect(runs).toBeGreaterThan(0);
  }

  const cases = [
    { photo: 'generated noise', read: noisyPng },
    ...(HAS_DEV
      ? [
          // The dash-cam frame's plates are searched again in each car and read: the plan grows.
          {
            photo: 'plate-0228.jpg',
            read: async () => new Uint8Array(readFileSync(path.join(DEV, 'plate-0228.jpg'))),
          },
          {
            photo: 'face-0003.jpg',
            read: async () => new Uint8Array(readFileSync(path.join(DEV, 'face-0003.jpg'))),
          },
        ]
      : []),
  ];

  it.each(cases)(
    'reports each stage of anonymize and every inference run of $photo',
    { timeout: 60_000 },
    async ({ read }) => {
      const bytes = await read();
      const seen: Progress[] = [];
      const before = counted.runs();
      await counted.nestor.anonymize(bytes, {}, { onProgress: (p) => seen.push(p) });
      expect(stages(seen)).toEqual(['decode', 'detect', 'redact', 'encode']);
      expectEveryRunCounted(seen, counted.runs() - before);
      const runs = seen.map((p) => p.runs);
      expect(runs).toEqual([...runs].sort((a, b) => a - b));
    },
  );

  it.skipIf(!HAS_DEV)(
    'the plan grows where a find calls for a closer look',
    { timeout: 60_000 },
    async () => {
      const bytes = new Uint8Array(readFileSync(path.join(DEV, 'plate-0228.jpg')));
      const seen: Progress[] = [];
      await counted.nestor.detect(bytes, { targets: ['plate'] }, { onProgress: (p) => seen.push(p) });
      const firstRun = seen.findIndex((p) => p.runs > 0);
      expect(seen.at(-1)!.plannedRuns).toBeGreaterThan(seen[firstRun]!.plannedRuns);
    },
  );

  it('reports detect without redact or encode', async () => {
    const seen: Progress[] = [];
    const before = counted.runs();
    await counted.nestor.detect(await noisyPng(), {}, { onProgress: (p) => seen.push(p) });
    expect(stages(seen)).toEqual(['decode', 'detect']);
    expectEveryRunCounted(seen, counted.runs() - before);
  });

  it('counts each frame of an animation afresh, with its place among the frames read', async () => {
    const input = await animate(await Promise.all([0, 1, 2].map(scene)), 'gif');
    const seen: Progress[] = [];
    await counted.nestor.anonymize(input, { targets: ['face'] }, { onProgress: (p) => seen.push(p) });
    expect(stages(seen)).toEqual(['decode', 'detect', 'redact', 'encode']);
    const frames = seen.filter((p) => p.frame).map((p) => p.frame!.index);
    expect([...new Set(frames)]).toEqual([0, 1, 2]);
    expect(seen.every((p) => !p.frame || p.frame.count === 3)).toBe(true);
    for (const index of [0, 1, 2]) {
      const last = seen.filter((p) => p.frame?.index === index).at(-1)!;
      expect(last.runs).toBe(last.plannedRuns);
      expect(last.runs).toBeGreaterThan(0);
    }
  });
});
