import type { RawImage } from '@nestor/core';

/**
 * Frames travel between ffmpeg and Nestor as planar YUV 4:2:0 (the codecs' own format): half the
 * bytes of RGB and no colour conversion in ffmpeg. Only what needs RGB is converted here: frames
 * the detector reads, and the few pixels around each region to redact (BT.601, limited range, the
 * same both ways so untouched pixels keep their values).
 */
export interface YuvLayout {
  readonly width: number;
  readonly height: number;
  /** Chroma plane size: half each side, rounded up. */
  readonly chromaWidth: number;
  readonly chromaHeight: number;
  readonly uOffset: number;
  readonly vOffset: number;
  readonly bytes: number;
}

export function yuvLayout(width: number, height: number): YuvLayout {
  const chromaWidth = Math.ceil(width / 2);
  const chromaHeight = Math.ceil(height / 2);
  const uOffset = width * height;
  const vOffset = uOffset + chromaWidth * chromaHeight;
  return {
    width,
    height,
    chromaWidth,
    chromaHeight,
    uOffset,
    vOffset,
    bytes: vOffset + chromaWidth * chromaHeight,
  };
}

export interface PixelRect {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** RGB of `rect` (whole frame by default) of a YUV 4:2:0 frame. */
export function yuvToRgb(
  frame: Uint8Array,
  layout: YuvLayout,
  rect: PixelRect = { x0: 0, y0: 0, x1: layout.width, y1: layout.height },
): RawImage {
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  const out = new Uint8Array(w * h * 3);
  const { width, chromaWidth, uOffset, vOffset } = layout;
  let o = 0;
  for (let y = rect.y0; y < rect.y1; y++) {
    const row = y * width;
    const crow = (y >> 1) * chromaWidth;
    for (let x = rect.x0; x < rect.x1; x++) {
      const c = 1.164 * (frame[row + x]! - 16);
      const u = frame[uOffset + crow + (x >> 1)]! - 128;
      const v = frame[vOffset + crow + (x >> 1)]! - 128;
      out[o++] = clamp(c + 1.596 * v);
      out[o++] = clamp(c - 0.392 * u - 0.813 * v);
      out[o++] = clamp(c + 2.017 * u);
    }
  }
  return { width: w, height: h, channels: 3, data: out };
}

/**
 * Writes back into the frame the pixels of `rgb` (covering `rect`, even-aligned) that differ from
 * `before`: luma per pixel, chroma per 2x2 block with any change (mean of the block).
 */
export function writeRgbChanges(
  frame: Uint8Array,
  layout: YuvLayout,
  rect: PixelRect,
  before: Uint8Array,
  rgb: Uint8Array,
): void {
  const w = rect.x1 - rect.x0;
  const { width, chromaWidth, uOffset, vOffset } = layout;
  for (let cy = rect.y0 >> 1; cy < (rect.y1 + 1) >> 1; cy++) {
    for (let cx = rect.x0 >> 1; cx < (rect.x1 + 1) >> 1; cx++) {
      let changed = false;
      let r = 0;
      let g = 0;
      let b = 0;
      let n = 0;
      for (let y = cy * 2; y < Math.min(cy * 2 + 2, rect.y1); y++) {
        for (let x = cx * 2; x < Math.min(cx * 2 + 2, rect.x1); x++) {
          const i = ((y - rect.y0) * w + (x - rect.x0)) * 3;
          const pr = rgb[i]!;
          const pg = rgb[i + 1]!;
          const pb = rgb[i + 2]!;
          if (pr !== before[i] || pg !== before[i + 1] || pb !== before[i + 2]) {
            changed = true;
            frame[y * width + x] = clamp(16 + 0.257 * pr + 0.504 * pg + 0.098 * pb);
          }
          r += pr;
          g += pg;
          b += pb;
          n++;
        }
      }
      if (!changed) continue;
      r /= n;
      g /= n;
      b /= n;
      frame[uOffset + cy * chromaWidth + cx] = clamp(128 - 0.148 * r - 0.291 * g + 0.439 * b);
      frame[vOffset + cy * chromaWidth + cx] = clamp(128 + 0.439 * r - 0.368 * g - 0.071 * b);
    }
  }
}

/** `rect` grown by `margin` on every side, clipped to the frame, with even corners (chroma blocks). */
export function evenRect(
  box: { x: number; y: number; width: number; height: number },
  margin: number,
  layout: YuvLayout,
): PixelRect {
  const x0 = Math.max(0, Math.floor(box.x - margin)) & ~1;
  const y0 = Math.max(0, Math.floor(box.y - margin)) & ~1;
  const x1 = Math.min(layout.width, (Math.ceil(box.x + box.width + margin) + 1) & ~1);
  const y1 = Math.min(layout.height, (Math.ceil(box.y + box.height + margin) + 1) & ~1);
  return { x0, y0, x1, y1 };
}
