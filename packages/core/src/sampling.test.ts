import { describe, expect, it } from 'vitest';
import { imageBox, modelBox } from './geometry.ts';
import type { RawImage } from './image.ts';
import {
  halve,
  type InputSpec,
  letterboxView,
  MipChain,
  sampleView,
  toImageBox,
  type View,
} from './sampling.ts';

const gradient = (width: number, height: number): RawImage => {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = x % 256;
      data[i + 1] = y % 256;
      data[i + 2] = 200;
    }
  }
  return { width, height, channels: 3, data };
};

const identity: InputSpec = {
  name: 'x',
  width: 4,
  height: 4,
  layout: 'NHWC',
  channelOrder: 'RGB',
  mean: [0, 0, 0],
  std: [1 / 255, 1 / 255, 1 / 255],
};

describe('toImageBox (the one model→image conversion)', () => {
  it.each([
    {
      name: 'whole image letterboxed',
      view: letterboxView(imageBox(0, 0, 512, 256), 256, 256),
      box: [10, 20, 30, 40],
      want: [20, 40, 60, 80],
    },
    {
      name: 'tile at native scale',
      view: { source: imageBox(300, 100, 256, 256), scale: 1, inputWidth: 256, inputHeight: 256 },
      box: [10, 20, 30, 40],
      want: [310, 120, 30, 40],
    },
    {
      name: 'upsampled tile',
      view: { source: imageBox(64, 32, 64, 64), scale: 4, inputWidth: 256, inputHeight: 256 },
      box: [40, 80, 20, 8],
      want: [74, 52, 5, 2],
    },
  ])('$name', ({ view, box, want }) => {
    const r = toImageBox(modelBox(...(box as [number, number, number, number])), view as View);
    expect([r.x, r.y, r.width, r.height]).toEqual(want);
  });
});

describe('letterboxView', () => {
  it.each([
    { w: 1000, h: 500, size: 250, scale: 0.25 },
    { w: 500, h: 1000, size: 250, scale: 0.25 },
    { w: 100, h: 100, size: 256, scale: 2.56 },
  ])('$w x $h into $size', ({ w, h, size, scale }) => {
    expect(letterboxView(imageBox(0, 0, w, h), size, size).scale).toBeCloseTo(scale, 10);
  });
});

describe('halve and MipChain', () => {
  it('averages 2x2 blocks', () => {
    const img: RawImage = {
      width: 2,
      height: 2,
      channels: 3,
      data: new Uint8Array([0, 0, 0, 100, 100, 100, 200, 200, 200, 100, 100, 100]),
    };
    expect([...halve(img).data]).toEqual([100, 100, 100]);
  });

  it.each([
    { scale: 1, factor: 1 },
    { scale: 0.6, factor: 1 },
    { scale: 0.5, factor: 2 },
    { scale: 0.2, factor: 4 },
    { scale: 0.01, factor: 64 },
  ])('picks the level for scale $scale', ({ scale, factor }) => {
    expect(new MipChain(gradient(64, 64)).levelFor(scale).factor).toBe(factor);
  });
});

describe('sampleView', () => {
  it('copies pixels exactly at scale 1 and pads with black', () => {
    const view: View = { source: imageBox(1, 1, 3, 2), scale: 1, inputWidth: 4, inputHeight: 4 };
    const out = sampleView(new MipChain(gradient(8, 8)), view, identity);
    // pixel (0,0) of the view is image pixel (1,1)
    expect([...out.slice(0, 3)]).toEqual([1, 1, 200]);
    // pixel (2,1) is image pixel (3,2)
    expect([...out.slice((1 * 4 + 2) * 3, (1 * 4 + 2) * 3 + 3)]).toEqual([3, 2, 200]);
    // column 3 and rows 2-3 are padding
    expect([...out.slice(3 * 3, 3 * 3 + 3)]).toEqual([0, 0, 0]);
    expect([...out.slice(2 * 4 * 3)].every((v) => v === 0)).toBe(true);
  });

  it('normalises, reorders channels and lays out NCHW', () => {
    const spec: InputSpec = {
      ...identity,
      width: 2,
      height: 1,
      layout: 'NCHW',
      channelOrder: 'BGR',
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
    };
    const img: RawImage = { width: 2, height: 1, channels: 3, data: new Uint8Array([255, 0, 0, 0, 0, 255]) };
    const view: View = { source: imageBox(0, 0, 2, 1), scale: 1, inputWidth: 2, inputHeight: 1 };
    // planes: B, G, R
    expect([...sampleView(new MipChain(img), view, spec)]).toEqual([-1, 1, -1, -1, 1, -1]);
  });

  it("reads every pixel through the chain's tone curve, and pads with black still", () => {
    const doubled = Float32Array.from({ length: 256 }, (_, v) => Math.min(255, 2 * v));
    const view: View = { source: imageBox(1, 1, 3, 2), scale: 1, inputWidth: 4, inputHeight: 4 };
    const out = sampleView(new MipChain(gradient(8, 8), [], doubled), view, identity);
    expect([...out.slice(0, 3)]).toEqual([2, 2, 255]);
    expect([...out.slice((1 * 4 + 2) * 3, (1 * 4 + 2) * 3 + 3)]).toEqual([6, 4, 255]);
    expect([...out.slice(3 * 3, 3 * 3 + 3)]).toEqual([0, 0, 0]);
  });
});

/** sampleView written per pixel, as plainly as possible: the fast one must agree with it. */
function referenceSample(mips: MipChain, view: View, spec: InputSpec): number[] {
  const { image, factor } = mips.levelFor(view.scale);
  const { width: W, height: H, channels: C, data } = image;
  const order = spec.channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const contentW = Math.min(view.inputWidth, Math.round(view.source.width * view.scale));
  const contentH = Math.min(view.inputHeight, Math.round(view.source.height * view.scale));
  const at = (x: number, y: number, ch: number) =>
    data[(Math.min(H - 1, Math.max(0, y)) * W + Math.min(W - 1, Math.max(0, x))) * C + ch]!;
  const plane = view.inputWidth * view.inputHeight;
  const out: number[] = new Array(plane * 3).fill(0);
  for (let oy = 0; oy < view.inputHeight; oy++) {
    for (let ox = 0; ox < view.inputWidth; ox++) {
      const inside = ox < contentW && oy < contentH;
      const sx = view.mirrored ? view.source.width * view.scale - ox - 1 : ox;
      const fx = Math.min(
        W - 1,
        Math.max(0, view.source.x / factor + ((sx + 0.5) / view.scale - 0.5 * factor) / factor),
      );
      const fy = Math.min(
        H - 1,
        Math.max(0, view.source.y / factor + ((oy + 0.5) / view.scale - 0.5 * factor) / factor),
      );
      const x0 = Math.min(Math.max(0, W - 2), Math.floor(fx));
      const y0 = Math.min(Math.max(0, H - 2), Math.floor(fy));
      order.forEach((ch, k) => {
        const top = at(x0, y0, ch) + (at(x0 + 1, y0, ch) - at(x0, y0, ch)) * (fx - x0);
        const bottom = at(x0, y0 + 1, ch) + (at(x0 + 1, y0 + 1, ch) - at(x0, y0 + 1, ch)) * (fx - x0);
        let v = inside ? top + (bottom - top) * (fy - y0) : 0;
        if (inside && mips.tone) v = mips.tone[Math.round(v)]!;
        const p = oy * view.inputWidth + ox;
        out[spec.layout === 'NCHW' ? k * plane + p : p * 3 + k] = (v / 255 - spec.mean[ch]!) / spec.std[ch]!;
      });
    }
  }
  return out;
}

describe('sampleView agrees with a per-pixel reference', () => {
  const bgrNormalised: InputSpec = {
    ...identity,
    layout: 'NCHW',
    channelOrder: 'BGR',
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  };
  const rgba = (width: number, height: number): RawImage => {
    const data = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i * 37 + (i >> 3) * 11) % 256);
    return { width, height, channels: 4, data };
  };
  const lift = Float32Array.from({ length: 256 }, (_, v) => 255 * (v / 255) ** 0.5);
  const cases: [string, RawImage, View, InputSpec, Float32Array | null][] = [
    ['scale 1, padded', gradient(9, 7), letterboxView(imageBox(0, 0, 9, 7), 12, 12), identity, null],
    [
      'downscaled through the mip chain',
      rgba(40, 30),
      letterboxView(imageBox(0, 0, 40, 30), 7, 7),
      bgrNormalised,
      null,
    ],
    [
      'upscaled crop, mirrored',
      gradient(20, 16),
      { ...letterboxView(imageBox(3.5, 2, 9, 6), 20, 14), mirrored: true },
      identity,
      null,
    ],
    [
      'fractional crop through a tone curve',
      rgba(33, 21),
      letterboxView(imageBox(5.25, 4.5, 17, 11), 13, 9),
      bgrNormalised,
      lift,
    ],
    ['one pixel wide', gradient(1, 10), letterboxView(imageBox(0, 0, 1, 10), 4, 8), bgrNormalised, null],
    ['one pixel high', rgba(10, 1), letterboxView(imageBox(0, 0, 10, 1), 8, 4), identity, lift],
  ];
  it.each(cases)('%s', (_, image, view, spec, tone) => {
    const mips = new MipChain(image, [], tone);
    const fast = [...sampleView(mips, view, spec)];
    const reference = referenceSample(mips, view, spec);
    expect(fast.length).toBe(reference.length);
    for (let i = 0; i < fast.length; i++) expect(fast[i]).toBeCloseTo(reference[i]!, 3);
  });
});

describe('MipChain with prebuilt reductions', () => {
  it('uses a prebuilt level of the right size and builds the others from the nearest finer one', () => {
    const base = gradient(64, 32);
    const quarter: RawImage = { width: 16, height: 8, channels: 3, data: new Uint8Array(16 * 8 * 3).fill(9) };
    const chain = new MipChain(base, [{ level: 2, image: quarter }]);
    expect(chain.levelFor(0.25).image).toBe(quarter);
    expect(chain.levelFor(0.125).image.width).toBe(8);
    expect(chain.levelFor(0.125).image.data[0]).toBe(9);
    expect(chain.levelFor(0.5).image.width).toBe(32);
  });

  it('ignores a prebuilt level whose size does not match', () => {
    const wrong: RawImage = { width: 15, height: 8, channels: 3, data: new Uint8Array(15 * 8 * 3) };
    expect(new MipChain(gradient(64, 32), [{ level: 2, image: wrong }]).levelFor(0.25).image.width).toBe(16);
  });
});

describe('mirrored views', () => {
  it('sample the content left-right flipped and map boxes back', () => {
    const img = gradient(8, 4);
    const view: View = {
      source: imageBox(0, 0, 8, 4),
      scale: 1,
      inputWidth: 8,
      inputHeight: 4,
      mirrored: true,
    };
    const spec = { ...identity, width: 8, height: 4 };
    const out = sampleView(new MipChain(img), view, spec);
    expect(out[0]).toBe(7);
    const back = toImageBox(modelBox(0, 0, 2, 4), view);
    expect([back.x, back.width]).toEqual([6, 2]);
  });
});
