import { describe, expect, it } from 'vitest';
import { imageBox } from './geometry.ts';
import type { RawImage } from './image.ts';
import {
  applyRedactions,
  boxesForGauss,
  gaussianBlur,
  planOp,
  type RedactionRegion,
  regionMask,
} from './redact.ts';

/** A deterministic high-detail image: checkerboard plus noise, the worst case for hiding detail. */
function detailed(width: number, height: number, channels: 3 | 4 = 3): RawImage {
  const data = new Uint8Array(width * height * channels);
  let seed = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const check = ((x >> 1) + (y >> 1)) % 2 ? 220 : 30;
      for (let c = 0; c < 3; c++)
        data[i + c] = Math.max(0, Math.min(255, check + ((seed >> (8 * c)) % 31) - 15));
      if (channels === 4) data[i + 3] = 255;
    }
  }
  return { width, height, channels, data };
}

/** Mean absolute difference between horizontal neighbours inside a rectangle (high-frequency energy). */
function detailEnergy(img: RawImage, x0: number, y0: number, x1: number, y1: number): number {
  let sum = 0;
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1 - 1; x++) {
      const i = (y * img.width + x) * img.channels;
      sum += Math.abs(img.data[i]! - img.data[i + img.channels]!);
      n++;
    }
  }
  return sum / n;
}

const copy = (img: RawImage): RawImage => ({ ...img, data: new Uint8Array(img.data) });
const black = [0, 0, 0] as const;

function changedOutside(
  before: RawImage,
  after: RawImage,
  inside: (x: number, y: number) => boolean,
): number {
  let changed = 0;
  for (let y = 0; y < before.height; y++) {
    for (let x = 0; x < before.width; x++) {
      if (inside(x, y)) continue;
      const i = (y * before.width + x) * before.channels;
      for (let c = 0; c < before.channels; c++) if (before.data[i + c] !== after.data[i + c]) changed++;
    }
  }
  return changed;
}

describe('planOp: strength follows region size', () => {
  it.each([
    { method: 'gaussian' as const, side: 60, strength: 1, want: { kind: 'gaussian', sigma: 10 } },
    { method: 'gaussian' as const, side: 600, strength: 1, want: { kind: 'gaussian', sigma: 100 } },
    { method: 'gaussian' as const, side: 60, strength: 2, want: { kind: 'gaussian', sigma: 20 } },
    { method: 'gaussian' as const, side: 6, strength: 1, want: { kind: 'gaussian', sigma: 2 } },
    { method: 'pixelate' as const, side: 80, strength: 1, want: { kind: 'pixelate', block: 10 } },
    { method: 'pixelate' as const, side: 10, strength: 1, want: { kind: 'pixelate', block: 3 } },
    { method: 'solid' as const, side: 80, strength: 1, want: { kind: 'solid', color: black } },
  ])('$method on a $side px region, strength $strength', ({ method, side, strength, want }) => {
    expect(planOp(method, strength, imageBox(0, 0, side, side * 1.2), () => 128, black)).toEqual(want);
  });

  it('adaptive blurs bright regions harder than dark ones', () => {
    const dark = planOp('adaptive', 1, imageBox(0, 0, 60, 60), () => 10, black);
    const bright = planOp('adaptive', 1, imageBox(0, 0, 60, 60), () => 245, black);
    expect(dark.kind === 'gaussian' && bright.kind === 'gaussian' && bright.sigma > dark.sigma * 1.5).toBe(
      true,
    );
  });
});

describe('regionMask', () => {
  it('covers an ellipse, zero outside, soft edge inside only', () => {
    const { bounds, mask } = regionMask(imageBox(10, 10, 20, 10), 'ellipse', 2, 100, 100);
    expect(bounds).toEqual({ x0: 10, y0: 10, x1: 30, y1: 20 });
    const at = (x: number, y: number) => mask[(y - 10) * 20 + (x - 10)]!;
    expect(at(20, 15)).toBe(1);
    expect(at(10, 10)).toBe(0);
    expect(at(29, 19)).toBe(0);
    expect(at(10, 15)).toBeGreaterThan(0);
    expect(at(10, 15)).toBeLessThan(1);
  });

  it('covers a rectangle fully with no feather', () => {
    const { mask } = regionMask(imageBox(0, 0, 4, 3), 'rect', 0, 10, 10);
    expect([...mask].every((v) => v === 1)).toBe(true);
  });

  // A region cut by the image's border (a face half out of the frame) arrives clipped: its shape
  // must cover every pixel the uncut shape covers inside the image, with no soft edge along the cut.
  const W = 100;
  const H = 80;
  const cut = [
    { side: 'left', whole: imageBox(-30, 20, 60, 40) },
    { side: 'right', whole: imageBox(70, 20, 60, 40) },
    { side: 'top', whole: imageBox(20, -25, 60, 40) },
    { side: 'bottom', whole: imageBox(20, 60, 60, 40) },
    { side: 'top-left corner', whole: imageBox(-20, -15, 50, 40) },
    { side: 'bottom-right corner', whole: imageBox(75, 60, 50, 40) },
    { side: 'left and right', whole: imageBox(-10, 20, 120, 40) },
  ];
  for (const { side, whole } of cut) {
    for (const shape of ['ellipse', 'rect'] as const) {
      it(`a ${shape} cut at the ${side} covers at least what the uncut one covers`, () => {
        const x0 = Math.max(0, whole.x);
        const y0 = Math.max(0, whole.y);
        const clipped = imageBox(
          x0,
          y0,
          Math.min(W, whole.x + whole.width) - x0,
          Math.min(H, whole.y + whole.height) - y0,
        );
        // The uncut shape, written plainly: which pixel centres it covers.
        const covers = (x: number, y: number) => {
          const px = x + 0.5;
          const py = y + 0.5;
          if (shape === 'rect') {
            return (
              px >= whole.x && px <= whole.x + whole.width && py >= whole.y && py <= whole.y + whole.height
            );
          }
          const dx = (px - (whole.x + whole.width / 2)) / (whole.width / 2);
          const dy = (py - (whole.y + whole.height / 2)) / (whole.height / 2);
          return dx * dx + dy * dy <= 1;
        };
        // The pixel next to (x, y) away from each cut border it lies on: the soft edge must not
        // fade towards the cut, so it is never covered more than the border pixel.
        const inward = (x: number, y: number): [number, number][] => [
          ...(whole.x < 0 && x === 0 ? [[1, y] as [number, number]] : []),
          ...(whole.x + whole.width > W && x === W - 1 ? [[W - 2, y] as [number, number]] : []),
          ...(whole.y < 0 && y === 0 ? [[x, 1] as [number, number]] : []),
          ...(whole.y + whole.height > H && y === H - 1 ? [[x, H - 2] as [number, number]] : []),
        ];
        const hard = regionMask(clipped, shape, 0, W, H);
        const soft = regionMask(clipped, shape, 6, W, H);
        const { x0: bx0, y0: by0, x1: bx1 } = hard.bounds;
        const at = (mask: Float32Array, x: number, y: number) => mask[(y - by0) * (bx1 - bx0) + (x - bx0)]!;
        const short: string[] = [];
        hard.mask.forEach((v, i) => {
          const x = bx0 + (i % (bx1 - bx0));
          const y = by0 + Math.floor(i / (bx1 - bx0));
          if (!covers(x, y)) return;
          const fades = inward(x, y).some(([ix, iy]) => at(soft.mask, x, y) < at(soft.mask, ix, iy));
          if (v < 1 || fades) short.push(`${x},${y}`);
        });
        expect(short).toEqual([]);
        expect(hard.bounds).toEqual({
          x0: clipped.x,
          y0: clipped.y,
          x1: clipped.x + clipped.width,
          y1: clipped.y + clipped.height,
        });
      });
    }
  }

  it('an uncut region keeps its soft edge on every side', () => {
    const { mask } = regionMask(imageBox(1, 1, 40, 30), 'rect', 4, 50, 50);
    const at = (x: number, y: number) => mask[(y - 1) * 40 + (x - 1)]!;
    expect(at(1, 15)).toBeLessThan(1);
    expect(at(40, 15)).toBeLessThan(1);
    expect(at(20, 1)).toBeLessThan(1);
    expect(at(20, 30)).toBeLessThan(1);
    expect(at(20, 15)).toBe(1);
  });
});

describe('applyRedactions', () => {
  const methods = [
    { name: 'gaussian', op: planOp('gaussian', 1, imageBox(0, 0, 60, 80), () => 128, black) },
    { name: 'adaptive', op: planOp('adaptive', 1, imageBox(0, 0, 60, 80), () => 200, black) },
    { name: 'pixelate', op: planOp('pixelate', 1, imageBox(0, 0, 60, 80), () => 128, black) },
    { name: 'solid', op: planOp('solid', 1, imageBox(0, 0, 60, 80), () => 128, black) },
  ];
  const shapes = ['ellipse', 'rect'] as const;

  for (const { name, op } of methods) {
    for (const shape of shapes) {
      for (const channels of [3, 4] as const) {
        it(`${name} / ${shape} / ${channels} channels changes exactly the region`, () => {
          const before = detailed(160, 140, channels);
          const after = copy(before);
          const region = imageBox(40.5, 30.2, 60, 80);
          const r: RedactionRegion = { region, shape, op, feather: 0 };
          applyRedactions(after, [r]);
          const { bounds, mask } = regionMask(region, shape, 0, 160, 140);
          const inside = (x: number, y: number) =>
            x >= bounds.x0 &&
            x < bounds.x1 &&
            y >= bounds.y0 &&
            y < bounds.y1 &&
            mask[(y - bounds.y0) * (bounds.x1 - bounds.x0) + (x - bounds.x0)]! > 0;
          expect(changedOutside(before, after, inside)).toBe(0);
          // alpha is never touched
          if (channels === 4) for (let i = 3; i < after.data.length; i += 4) expect(after.data[i]).toBe(255);
          // the core of the region lost its detail
          const core = [55, 50, 85, 90] as const;
          expect(detailEnergy(before, ...core)).toBeGreaterThan(60);
          expect(detailEnergy(after, ...core)).toBeLessThan(name === 'pixelate' ? 25 : 3);
        });
      }
    }
  }

  it('the default strength leaves no recoverable detail in a face-sized region', () => {
    const img = detailed(200, 200);
    const region = imageBox(50, 40, 100, 120);
    const op = planOp('gaussian', 1, region, () => 128, black);
    applyRedactions(img, [{ region, shape: 'ellipse', op, feather: 10 }]);
    // high-frequency energy in the inner half drops from ~95 to below 1 grey level per pixel
    expect(detailEnergy(img, 80, 75, 120, 125)).toBeLessThan(1);
  });

  it('ignores regions entirely outside the image', () => {
    const before = detailed(50, 50);
    const after = copy(before);
    applyRedactions(after, [
      { region: imageBox(100, 100, 20, 20), shape: 'rect', op: { kind: 'solid', color: black }, feather: 0 },
    ]);
    expect(after.data).toEqual(before.data);
  });
});

describe('gaussianBlur', () => {
  it.each([1, 3, 10, 40])('three boxes approximate sigma %d', (sigma) => {
    const boxes = boxesForGauss(sigma);
    const variance = boxes.reduce((v, w) => v + (w * w - 1) / 12, 0);
    expect(Math.sqrt(variance)).toBeCloseTo(sigma, 0);
  });

  it('keeps a flat image flat and preserves the mean', () => {
    const px = new Float32Array(30 * 20 * 3).fill(77);
    gaussianBlur(px, 30, 20, 3, 5);
    expect(px.every((v) => Math.abs(v - 77) < 1e-3)).toBe(true);
  });
});
