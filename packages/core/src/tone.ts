import type { RawImage } from './image.ts';

/** When a photo counts as dark and how far the detectors' copy of it is brightened. */
export interface LowLightRules {
  /** A photo whose median luminance (0-255) is below this is dark. */
  readonly darkMedian: number;
  /** Where the brightened median lands, as a share of white. */
  readonly targetMedian: number;
  /** The strongest lift allowed: the curve's exponent is never below this. */
  readonly minGamma: number;
  /** The luminance share taken as white: bright lights above it saturate. */
  readonly whiteQuantile: number;
}

export const LOW_LIGHT_RULES: LowLightRules = {
  darkMedian: 40,
  targetMedian: 0.2,
  minGamma: 0.4,
  whiteQuantile: 0.995,
};

/** About this many pixels are read to measure a photo's exposure, whatever its size. */
const SAMPLES = 65_536;

/**
 * The tone curve (256 entries, 0-255 in and out) the detectors read a dark photo through, or null
 * for a photo exposed well enough. Night and under-exposed photos keep plates and faces in the
 * bottom few grey levels, where the models were never trained to look; a gamma lift that puts the
 * median at `targetMedian` of white brings them back. The pixels that are redacted and encoded are
 * never changed.
 */
export function lowLightCurve(image: RawImage, rules: LowLightRules = LOW_LIGHT_RULES): Float32Array | null {
  const { width, height, channels, data } = image;
  const pixels = width * height;
  if (pixels === 0) return null;
  const stride = Math.max(1, Math.floor(Math.sqrt(pixels / SAMPLES)));
  const histogram = new Uint32Array(256);
  let count = 0;
  for (let y = 0; y < height; y += stride) {
    for (let x = 0; x < width; x += stride) {
      const i = (y * width + x) * channels;
      histogram[Math.round(0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!)]!++;
      count++;
    }
  }
  const median = quantile(histogram, count, 0.5);
  if (median >= rules.darkMedian) return null;
  const white = Math.max(quantile(histogram, count, rules.whiteQuantile), 1);
  const share = Math.max(median, 0.5) / white;
  const gamma =
    share >= rules.targetMedian
      ? 1
      : Math.max(rules.minGamma, Math.log(rules.targetMedian) / Math.log(share));
  const curve = new Float32Array(256);
  for (let v = 0; v < 256; v++) curve[v] = 255 * Math.min(1, v / white) ** gamma;
  return curve;
}

function quantile(histogram: Uint32Array, count: number, q: number): number {
  const wanted = q * count;
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += histogram[v]!;
    if (seen >= wanted) return v;
  }
  return 255;
}
