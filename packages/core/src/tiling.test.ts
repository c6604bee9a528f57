import { describe, expect, it } from 'vitest';
import { planViews, starts, type TilingOptions } from './tiling.ts';

const base: TilingOptions = {
  inputWidth: 256,
  inputHeight: 256,
  modelMinObject: 24,
  minObject: 24,
  maxScale: 4,
  levelStep: 2,
  maxViews: 1000,
};

describe('starts', () => {
  it.each([
    { length: 100, crop: 200, overlap: 10, want: [0] },
    { length: 100, crop: 100, overlap: 10, want: [0] },
    { length: 190, crop: 100, overlap: 10, want: [0, 90] },
    { length: 300, crop: 100, overlap: 20, want: [0, 66.667, 133.333, 200] },
  ])('length $length crop $crop overlap $overlap', ({ length, crop, overlap, want }) => {
    expect(starts(length, crop, overlap)).toEqual(want);
  });
});

describe('planViews', () => {
  it.each([
    { name: 'small image, large objects: one letterboxed view', w: 400, h: 300, minObject: 200, views: 1 },
    {
      name: 'objects at the model minimum of the whole view: one view',
      w: 256,
      h: 256,
      minObject: 24,
      views: 1,
    },
    { name: 'upsampling capped by maxScale', w: 100, h: 100, minObject: 2, views: 1 + 4 },
  ])('$name', ({ w, h, minObject, views }) => {
    expect(planViews(w, h, { ...base, minObject })).toHaveLength(views);
  });

  it.each([
    { w: 4000, h: 3000, minObject: 12 },
    { w: 1280, h: 720, minObject: 16 },
    { w: 400, h: 295, minObject: 10 },
    { w: 3000, h: 200, minObject: 20 },
  ])(
    'covers every point of a $w x $h image at the finest level, with overlap for the level objects',
    ({ w, h, minObject }) => {
      const views = planViews(w, h, { ...base, minObject });
      const finest = Math.max(...views.map((v) => v.scale));
      const tiles = views.filter((v) => v.scale === finest);
      const objectSide = (base.modelMinObject * base.levelStep) / finest;
      for (let y = 0; y + objectSide <= h; y += h / 17) {
        for (let x = 0; x + objectSide <= w; x += w / 19) {
          // an object at (x, y) of the largest size this level is responsible for lies whole in some tile
          const inside = tiles.some(
            (t) =>
              x >= t.source.x - 1e-6 &&
              y >= t.source.y - 1e-6 &&
              x + objectSide <= t.source.x + t.source.width + 1e-6 &&
              y + objectSide <= t.source.y + t.source.height + 1e-6,
          );
          expect(inside, `object at ${x},${y}`).toBe(true);
        }
      }
      for (const v of views) {
        expect(v.source.x + v.source.width).toBeLessThanOrEqual(w + 1e-6);
        expect(v.source.y + v.source.height).toBeLessThanOrEqual(h + 1e-6);
        expect(v.source.width * v.scale).toBeLessThanOrEqual(base.inputWidth + 1e-6);
      }
    },
  );

  it('drops the finest levels beyond maxViews', () => {
    const views = planViews(4000, 3000, { ...base, minObject: 8, maxViews: 30 });
    expect(views.length).toBeLessThanOrEqual(30);
    expect(views[0]!.source.width).toBe(4000);
  });

  it('shrinks inputs of fully convolutional models to their content', () => {
    const views = planViews(1000, 500, {
      ...base,
      inputWidth: 960,
      inputHeight: 960,
      modelMinObject: 16,
      minObject: 20,
      sizeMultiple: 32,
    });
    expect(views).toHaveLength(1);
    expect([views[0]!.inputWidth, views[0]!.inputHeight]).toEqual([800, 416]);
  });

  describe('a large photo read whole by a fully convolutional model (maxWholePixels)', () => {
    // RetinaFace in balanced: 640 nominal input, 0.65 MP budget, up to 16 nominal inputs in one view.
    const nominal: TilingOptions = {
      ...base,
      inputWidth: 640,
      inputHeight: 640,
      modelMinObject: 32,
      maxViews: 3,
      sizeMultiple: 32,
      maxInputPixels: 650_000,
    };
    const rf: TilingOptions = { ...nominal, maxWholePixels: 16 * 640 * 640 };
    it.each([
      { name: '12 MP: one view at the budget scale', w: 4000, h: 3000, options: rf, want: ['0.233 960x704'] },
      { name: '1 MP: the same budget', w: 1024, h: 768, options: rf, want: ['0.909 960x704'] },
      {
        name: 'without maxWholePixels: the nominal 640 view',
        w: 4000,
        h: 3000,
        options: nominal,
        want: ['0.160 640x480'],
      },
      {
        name: 'a small photo keeps the view it had without maxWholePixels',
        w: 400,
        h: 300,
        options: rf,
        want: ['1.333 544x416'],
      },
      {
        name: 'a budget of 4 MP: one 4 MP view',
        w: 4000,
        h: 3000,
        options: { ...rf, maxInputPixels: 4_000_000 },
        want: ['0.577 2336x1760'],
      },
      {
        name: 'a budget that does not bind (the smallest object does) keeps the pyramid',
        w: 4000,
        h: 3000,
        options: { ...rf, maxInputPixels: 100_000_000, maxViews: 2 },
        want: ['0.160 640x480'],
      },
      {
        name: 'a whole view beyond maxWholePixels keeps the pyramid',
        w: 4000,
        h: 3000,
        options: { ...rf, maxWholePixels: 500_000 },
        want: ['0.160 640x480'],
      },
    ])('$name', ({ w, h, options, want }) => {
      const views = planViews(w, h, options);
      expect(views.map((v) => `${v.scale.toFixed(3)} ${v.inputWidth}x${v.inputHeight}`)).toEqual(want);
      expect(views[0]!.source).toMatchObject({ x: 0, y: 0, width: w, height: h });
    });
  });
});
