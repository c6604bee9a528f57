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
  const order = spec.channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const mul = order.map((ch) => 1 / (255 * spec.std[ch]!));
  // `+ 0` turns -0 into 0 so padding is plain zero when mean is 0.
  const add = order.map((ch) => -spec.mean[ch]! / spec.std[ch]! + 0);
  const nchw = spec.layout === 'NCHW';
  const contentW = Math.min(outW, Math.round(view.source.width * view.scale));
  const contentH = Math.min(outH, Math.round(view.source.height * view.scale));
  // Image coordinates at the chosen mip level of output pixel centres.
  const step = 1 / (view.scale * factor);
  const x0 = view.source.x / factor;
  const y0 = view.source.y / factor;
  const xs = new Int32Array(outW);
  const xw = new Float32Array(outW);
  for (let ox = 0; ox < contentW; ox++) {
    const sx = view.mirrored ? view.source.width * view.scale - ox - 1 : ox;
    const fx = Math.min(W - 1, Math.max(0, x0 + (sx + 0.5) * step - 0.5));
    xs[ox] = Math.min(W - 2, Math.floor(fx));
    xw[ox] = fx - xs[ox]!;
    if (W === 1) {
      xs[ox] = 0;
      xw[ox] = 0;
    }
  }
  const x1off = W === 1 ? 0 : C;
  // Where channel k (in the model's order) of pixel p goes: base(p) + k * stride.
  const kStride = nchw ? plane : 1;
  const [c0, c1, c2] = order as [number, number, number];
  const [m0, m1, m2] = mul as [number, number, number];
  const [a0, a1, a2] = add as [number, number, number];
  const rgb = new Float32Array(3);
  const tone = mips.tone;
  for (let oy = 0; oy < outH; oy++) {
    const inContentRow = oy < contentH;
    const fy = Math.min(H - 1, Math.max(0, y0 + (oy + 0.5) * step - 0.5));
    const yi = H === 1 ? 0 : Math.min(H - 2, Math.floor(fy));
    const wy = H === 1 ? 0 : fy - yi;
    const row0 = yi * W * C;
    const row1 = H === 1 ? row0 : row0 + W * C;
    for (let ox = 0; ox < outW; ox++) {
      const p = oy * outW + ox;
      const base = nchw ? p : p * 3;
      if (!inContentRow || ox >= contentW) {
        out[base] = a0;
        out[base + kStride] = a1;
        out[base + 2 * kStride] = a2;
        continue;
      }
      const wx = xw[ox]!;
      const i00 = row0 + xs[ox]! * C;
      const i10 = row1 + xs[ox]! * C;
      for (let ch = 0; ch < 3; ch++) {
        const top = data[i00 + ch]! + (data[i00 + x1off + ch]! - data[i00 + ch]!) * wx;
        const bottom = data[i10 + ch]! + (data[i10 + x1off + ch]! - data[i10 + ch]!) * wx;
        rgb[ch] = top + (bottom - top) * wy;
      }
      if (tone) {
        rgb[0] = tone[Math.round(rgb[0]!)]!;
        rgb[1] = tone[Math.round(rgb[1]!)]!;
        rgb[2] = tone[Math.round(rgb[2]!)]!;
      }
      out[base] = rgb[c0]! * m0 + a0;
      out[base + kStride] = rgb[c1]! * m1 + a1;
      out[base + 2 * kStride] = rgb[c2]! * m2 + a2;
    }
  }
  return out;
}
