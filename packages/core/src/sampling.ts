import { type ImageBox, imageBox, type ModelBox } from './geometry.ts';
import type { RawImage } from './image.ts';

/**
 * How one model input maps onto the image: the image rectangle `source` is scaled by `scale`
 * and placed at the input's top-left corner; the rest of the input is padding.
 */
export interface View {
  readonly source: ImageBox;
  readonly scale: number;
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** The content is mirrored left to right (test-time augmentation). */
  readonly mirrored?: boolean;
}

/** The one conversion from model-input pixels to original-image pixels. */
export function toImageBox(box: ModelBox, view: View): ImageBox {
  const x = view.mirrored ? view.source.width * view.scale - box.x - box.width : box.x;
  return imageBox(
    view.source.x + x / view.scale,
    view.source.y + box.y / view.scale,
    box.width / view.scale,
    box.height / view.scale,
  );
}

/** How pixels become a model's input tensor. */
export interface InputSpec {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly layout: 'NHWC' | 'NCHW';
  readonly channelOrder: 'RGB' | 'BGR';
  /** Per channel (in RGB order): value = (pixel / 255 - mean) / std. */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /** Fully convolutional models take any size that is a multiple of this; width/height are then maxima. */
  readonly sizeMultiple?: number;
  /** Fully convolutional models: small images are upsampled until their long side reaches this. */
  readonly minLongSide?: number;
  /**
   * Fully convolutional models: a photo larger than the input is read whole, in one view at the
   * input budget's scale, when that view has at most this many pixels (beyond width x height).
   */
  readonly maxWholePixels?: number;
}

/** A view that fits the whole of `rect` into the input, keeping aspect ratio (letterbox). */
export function letterboxView(rect: ImageBox, inputWidth: number, inputHeight: number): View {
  const scale = Math.min(inputWidth / rect.width, inputHeight / rect.height);
  return { source: rect, scale, inputWidth, inputHeight };
}

/**
 * Successive 2x box-filtered reductions of an image, built lazily, so that any view samples
 * from a level at most 2x larger than its target and never aliases.
 */
export class MipChain {
  private readonly levels = new Map<number, RawImage>();

  /**
   * @param base the full-resolution image
   * @param prebuilt reductions an engine made faster (e.g. natively): level k is base >> k in each
   *   side; missing levels are built by halving the nearest finer one
   * @param tone a curve (256 entries) every view is read through (`lowLightCurve`); null = none
   */
  constructor(
    base: RawImage,
    prebuilt: readonly { level: number; image: RawImage }[] = [],
    readonly tone: Float32Array | null = null,
  ) {
    this.levels.set(0, base);
    for (const p of prebuilt) {
      if (p.image.width === base.width >> p.level && p.image.height === base.height >> p.level)
        this.levels.set(p.level, p.image);
    }
  }

  get base(): RawImage {
    return this.levels.get(0)!;
  }

  /** The level whose resolution is the smallest still >= `scale` times the base. */
  levelFor(scale: number): { image: RawImage; factor: number } {
    let k = 0;
    while (scale * 2 ** (k + 1) <= 1 && this.base.width >> (k + 1) >= 1 && this.base.height >> (k + 1) >= 1)
      k++;
    return { image: this.level(k), factor: 2 ** k };
  }

  private level(k: number): RawImage {
    const have = this.levels.get(k);
    if (have) return have;
    let j = k - 1;
    while (!this.levels.has(j)) j--;
    let image = this.levels.get(j)!;
    for (let i = j + 1; i <= k; i++) {
      image = halve(image);
      this.levels.set(i, image);
    }
    return image;
  }
}

/** Halves an image with a 2x2 box filter (odd edges are dropped). */
export function halve(image: RawImage): RawImage {
  const width = image.width >> 1;
  const height = image.height >> 1;
  const c = image.channels;
  const src = image.data;
  const out = new Uint8Array(width * height * c);
  const rowStride = image.width * c;
  const rowOut = width * c;
  for (let y = 0; y < height; y++) {
    let a = 2 * y * rowStride;
    let b = a + rowStride;
    let o = y * rowOut;
    const end = o + rowOut;
    // Channels are summed pairwise across the two source pixels of each row, then rows added.
    while (o < end) {
      for (let ch = 0; ch < c; ch++) {
        out[o + ch] = (src[a + ch]! + src[a + c + ch]! + src[b + ch]! + src[b + c + ch]! + 2) >> 2;
      }
      o += c;
      a += 2 * c;
      b += 2 * c;
    }
  }
  return { width, height, channels: c, data: out };
}

/**
 * Fills a float32 tensor for `view` from the image (bilinear from the right mip level, through the
 * chain's tone curve if it has one), normalised per `spec`; the padding area gets the value of a
 * black pixel.
 */
export function sampleView(mips: MipChain, view: View, spec: InputSpec): Float32Array {
  const { image, factor } = mips.levelFor(view.scale);
  const { width: W, height: H, channels: C, data } = image;
  const outW = view.inputWidth;
  const outH = view.inputHeight;
  const plane = outW * outH;
  const out = new Float32Array(plane * 3);
  // Output channel k reads source channel sk and is normalised as pixel * mk + ak.
  const order = spec.channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const [s0, s1, s2] = order as [number, number, number];
  const [m0, m1, m2] = order.map((ch) => 1 / (255 * spec.std[ch]!)) as [number, number, number];
  // `+ 0` turns -0 into 0 so padding is plain zero when mean is 0.
  const [a0, a1, a2] = order.map((ch) => -spec.mean[ch]! / spec.std[ch]! + 0) as [number, number, number];
  const nchw = spec.layout === 'NCHW';
  // Where channel k of output pixel p goes: p * pStride + k * kStride.
  const pStride = nchw ? 1 : 3;
  const kStride = nchw ? plane : 1;
  const contentW = Math.min(outW, Math.round(view.source.width * view.scale));
  const contentH = Math.min(outH, Math.round(view.source.height * view.scale));
  // Image coordinates at the chosen mip level of output pixel centres.
  const step = 1 / (view.scale * factor);
  const x0 = view.source.x / factor;
  const y0 = view.source.y / factor;
  // Per output column: byte offset of its left source pixel, and the right one's weight.
  const xs = new Int32Array(contentW);
  const xw = new Float32Array(contentW);
  for (let ox = 0; ox < contentW; ox++) {
    if (W === 1) continue;
    const sx = view.mirrored ? view.source.width * view.scale - ox - 1 : ox;
    const fx = Math.min(W - 1, Math.max(0, x0 + (sx + 0.5) * step - 0.5));
    const xi = Math.min(W - 2, Math.floor(fx));
    xs[ox] = xi * C;
    xw[ox] = fx - xi;
  }
  const right = W === 1 ? 0 : C;
  const tone = mips.tone;
  for (let oy = 0; oy < contentH; oy++) {
    const fy = Math.min(H - 1, Math.max(0, y0 + (oy + 0.5) * step - 0.5));
    const yi = H === 1 ? 0 : Math.min(H - 2, Math.floor(fy));
    const wy = H === 1 ? 0 : fy - yi;
    const row0 = yi * W * C;
    const row1 = H === 1 ? row0 : row0 + W * C;
    let o = oy * outW * pStride;
    for (let ox = 0; ox < contentW; ox++, o += pStride) {
      const wx = xw[ox]!;
      const i = row0 + xs[ox]!;
      const j = row1 + xs[ox]!;
      // `bilinear` rounds to float32: the tone curve and the tensor see the same value on every engine.
      let v0 = bilinear(data[i + s0]!, data[i + right + s0]!, data[j + s0]!, data[j + right + s0]!, wx, wy);
      let v1 = bilinear(data[i + s1]!, data[i + right + s1]!, data[j + s1]!, data[j + right + s1]!, wx, wy);
      let v2 = bilinear(data[i + s2]!, data[i + right + s2]!, data[j + s2]!, data[j + right + s2]!, wx, wy);
      if (tone) {
        v0 = tone[Math.round(v0)]!;
        v1 = tone[Math.round(v1)]!;
        v2 = tone[Math.round(v2)]!;
      }
      out[o] = v0 * m0 + a0;
      out[o + kStride] = v1 * m1 + a1;
      out[o + 2 * kStride] = v2 * m2 + a2;
    }
  }
  if (a0 !== 0 || a1 !== 0 || a2 !== 0)
    padBlack(out, outW, outH, contentW, contentH, pStride, kStride, [a0, a1, a2]);
  return out;
}

/** Bilinear blend of four neighbours (top-left, top-right, bottom-left, bottom-right), rounded to float32. */
export function bilinear(tl: number, tr: number, bl: number, br: number, wx: number, wy: number): number {
  const top = tl + (tr - tl) * wx;
  const bottom = bl + (br - bl) * wx;
  return Math.fround(top + (bottom - top) * wy);
}

/** Writes the normalised value of black into the input outside the content rectangle. */
function padBlack(
  out: Float32Array,
  outW: number,
  outH: number,
  contentW: number,
  contentH: number,
  pStride: number,
  kStride: number,
  black: readonly [number, number, number],
): void {
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = oy < contentH ? contentW : 0; ox < outW; ox++) {
      const o = (oy * outW + ox) * pStride;
      out[o] = black[0];
      out[o + kStride] = black[1];
      out[o + 2 * kStride] = black[2];
    }
  }
}
