import { imageBox } from './geometry.ts';
import { letterboxView, type View } from './sampling.ts';

/** What a detector needs to plan the views it runs over an image. */
export interface TilingOptions {
  /** Model input size in pixels. */
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** Smallest object side, in model-input pixels, the model finds reliably. */
  readonly modelMinObject: number;
  /** Smallest object side, in image pixels, the caller wants found. */
  readonly minObject: number;
  /** Largest upsampling allowed (small images with tiny objects). */
  readonly maxScale: number;
  /** Levels of a scale pyramid step by this factor (2 = octaves). */
  readonly levelStep: number;
  /** Most views allowed for one image; the finest levels are dropped first. */
  readonly maxViews: number;
  /** Set for fully convolutional models: each view's input shrinks to its content, rounded up to this. */
  readonly sizeMultiple?: number;
  /** With sizeMultiple: the whole-image view is upsampled until its long side reaches this. */
  readonly minLongSide?: number;
  /** With sizeMultiple: no view is finer than the scale at which the whole image has this many pixels. */
  readonly maxInputPixels?: number;
  /**
   * With sizeMultiple and maxInputPixels: where the budget sets the finest scale, a downscaled
   * image is read whole at that scale when that view has at most this many pixels.
   */
  readonly maxWholePixels?: number;
}

/**
 * Plans a scale pyramid of views: level 0 letterboxes the whole image, each finer level scales
 * by `levelStep` and tiles the image with enough overlap that an object of the sizes that level
 * is responsible for lies whole inside at least one tile.
 */
export function planViews(width: number, height: number, options: TilingOptions): View[] {
  const { inputWidth, inputHeight, levelStep } = options;
  const budget =
    options.sizeMultiple && options.maxInputPixels
      ? Math.sqrt(options.maxInputPixels / (width * height))
      : Infinity;
  const finest = Math.min(options.maxScale, options.modelMinObject / options.minObject, budget);
  const fitted = letterboxView(imageBox(0, 0, width, height), inputWidth, inputHeight);
  // A fully convolutional model sees the whole image no finer than needed: smaller input, same finds.
  const floor = Math.min(options.maxScale, (options.minLongSide ?? 0) / Math.max(width, height));
  const whole = options.sizeMultiple
    ? { ...fitted, scale: Math.min(fitted.scale, Math.max(finest, floor)) }
    : fitted;
  const budgetBinds = budget < Math.min(options.maxScale, options.modelMinObject / options.minObject);
  if (
    options.sizeMultiple &&
    options.maxWholePixels &&
    budgetBinds &&
    fitted.scale < 1 &&
    finest > fitted.scale
  ) {
    // Where the input budget, not the smallest object, decides how finely a large photo is read,
    // it is read whole in one view beyond the nominal input: the budget's pixels without tile seams.
    const m = options.sizeMultiple;
    const inputWidth = Math.ceil((width * finest) / m) * m;
    const inputHeight = Math.ceil((height * finest) / m) * m;
    if (inputWidth * inputHeight <= options.maxWholePixels) {
      return [{ source: imageBox(0, 0, width, height), scale: finest, inputWidth, inputHeight }];
    }
  }
  const views: View[] = [whole];
  const levels: number[] = [];
  for (let s = whole.scale * levelStep; ; s *= levelStep) {
    const scale = Math.min(s, finest);
    // A level barely finer than the last adds cost but finds nothing new.
    if (scale <= (levels.at(-1) ?? whole.scale) * Math.SQRT2) break;
    levels.push(scale);
    if (scale >= finest) break;
  }
  let previous = whole.scale;
  for (const wanted of levels) {
    // Over budget, the level is made coarser until it fits, rather than dropped.
    let scale = wanted;
    let level = tileLevel(width, height, scale, options);
    while (views.length + level.length > options.maxViews && scale * 0.85 > previous * Math.SQRT2) {
      scale *= 0.85;
      level = tileLevel(width, height, scale, options);
    }
    if (views.length + level.length > options.maxViews) break;
    views.push(...level);
    previous = scale;
  }
  const m = options.sizeMultiple;
  if (!m) return views;
  return views.map((v) => ({
    ...v,
    inputWidth: Math.min(v.inputWidth, Math.ceil((v.source.width * v.scale) / m) * m),
    inputHeight: Math.min(v.inputHeight, Math.ceil((v.source.height * v.scale) / m) * m),
  }));
}

function tileLevel(width: number, height: number, scale: number, options: TilingOptions): View[] {
  const cropW = options.inputWidth / scale;
  const cropH = options.inputHeight / scale;
  // Objects bigger than levelStep x this level's minimum are the coarser level's job.
  const overlap = (options.modelMinObject * options.levelStep * 1.25) / scale;
  const xs = starts(width, cropW, overlap);
  const ys = starts(height, cropH, overlap);
  const views: View[] = [];
  for (const y of ys) {
    for (const x of xs) {
      const w = Math.min(cropW, width - x);
      const h = Math.min(cropH, height - y);
      views.push({
        source: imageBox(x, y, w, h),
        scale,
        inputWidth: options.inputWidth,
        inputHeight: options.inputHeight,
      });
    }
  }
  return views;
}

/** Evenly spread tile origins covering [0, length) with at least `overlap` shared between neighbours. */
export function starts(length: number, crop: number, overlap: number): number[] {
  if (crop >= length) return [0];
  const stride = Math.max(1, crop - Math.min(overlap, crop * 0.5));
  const count = Math.ceil((length - crop) / stride) + 1;
  const step = (length - crop) / (count - 1);
  return Array.from({ length: count }, (_, i) => Math.round(i * step * 1000) / 1000);
}
