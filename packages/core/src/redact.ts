import { pixelBounds, type Rect } from './geometry.ts';
import { meanLuma, type RawImage } from './image.ts';
import { bilinear } from './sampling.ts';

export const REDACTION_METHODS = ['gaussian', 'pixelate', 'solid', 'adaptive'] as const;
export type RedactionMethod = (typeof REDACTION_METHODS)[number];
export const REGION_SHAPES = ['ellipse', 'rect'] as const;
export type RegionShape = (typeof REGION_SHAPES)[number];

/** What to do to one region, with every parameter decided (pure data, easy to test and to log). */
export type RedactionOp =
  | { readonly kind: 'gaussian'; readonly sigma: number }
  | { readonly kind: 'pixelate'; readonly block: number }
  | { readonly kind: 'solid'; readonly color: readonly [number, number, number] };

export interface RedactionRegion {
  readonly region: Rect;
  readonly shape: RegionShape;
  readonly op: RedactionOp;
  /** Width of the soft edge in pixels (0 = hard edge). */
  readonly feather: number;
}

/**
 * Chooses the operation for a region. Strength is relative to the region's size so that the
 * default cannot be undone: blur sigma is a sixth of the short side, pixel blocks an eighth.
 * `adaptive` is a gaussian whose sigma grows with the region's brightness (detail shows more
 * in bright areas), as in the original .NET back-end.
 */
export function planOp(
  method: RedactionMethod,
  strength: number,
  region: Rect,
  luma: () => number,
  color: readonly [number, number, number],
): RedactionOp {
  const side = Math.max(1, Math.min(region.width, region.height));
  switch (method) {
    case 'gaussian':
      return { kind: 'gaussian', sigma: Math.max(2, (side / 6) * strength) };
    case 'adaptive':
      return { kind: 'gaussian', sigma: Math.max(2, (side / 6) * strength * (0.6 + (0.8 * luma()) / 255)) };
    case 'pixelate':
      return { kind: 'pixelate', block: Math.max(3, Math.round((side / 8) * strength)) };
    case 'solid':
      return { kind: 'solid', color };
  }
}

/** Mean luma of the region's own pixels (for adaptive strength). */
export function regionLuma(image: RawImage, region: Rect, shape: RegionShape): number {
  const b = pixelBounds(region, image.width, image.height);
  const depth = insideDepth(region, shape, image.width, image.height);
  return meanLuma(image, b, (x, y) => depth(x + 0.5, y + 0.5) >= 0);
}

/**
 * Where a pixel centre lies along one axis of the region: for an ellipse its offset from the
 * centre in radii, for a rectangle its distance to the nearer side. A side lying on the image's
 * border is open: the region was cut there (a face half out of the frame), so between that
 * border and the centre the shape keeps its full extent instead of narrowing to the border, and
 * the part of a cut face inside the photo is covered entirely.
 */
function axisPlace(shape: RegionShape, start: number, size: number, limit: number): (p: number) => number {
  const centre = start + size / 2;
  const openBefore = start <= 0;
  const openAfter = start + size >= limit;
  if (shape === 'ellipse') {
    const radius = size / 2;
    return (p) => ((openBefore && p < centre) || (openAfter && p > centre) ? 0 : (p - centre) / radius);
  }
  const far = Number.POSITIVE_INFINITY;
  return (p) => Math.min(openBefore ? far : p - start, openAfter ? far : start + size - p);
}

/** Distance (pixels) inside the shape's boundary from the two axis places; negative outside. */
function depthOf(region: Rect, shape: RegionShape): (atX: number, atY: number) => number {
  if (shape === 'rect') return Math.min;
  const scale = Math.min(region.width, region.height) / 2;
  return (atX, atY) => (1 - Math.sqrt(atX * atX + atY * atY)) * scale;
}

function insideDepth(region: Rect, shape: RegionShape, width: number, height: number) {
  const alongX = axisPlace(shape, region.x, region.width, width);
  const alongY = axisPlace(shape, region.y, region.height, height);
  const depth = depthOf(region, shape);
  return (px: number, py: number) => depth(alongX(px), alongY(py));
}

/**
 * Coverage (0..1) of each pixel of the region's bounding pixels by its shape, with a linear soft
 * edge of `feather` pixels inside the shape. Pixels outside the shape get exactly 0; sides on the
 * image's border are open (no soft edge there, see `axisPlace`).
 */
export function regionMask(region: Rect, shape: RegionShape, feather: number, width: number, height: number) {
  const b = pixelBounds(region, width, height);
  const w = b.x1 - b.x0;
  const h = b.y1 - b.y0;
  const mask = new Float32Array(Math.max(0, w * h));
  const alongX = axisPlace(shape, region.x, region.width, width);
  const alongY = axisPlace(shape, region.y, region.height, height);
  const columns = Float64Array.from({ length: Math.max(0, w) }, (_, x) => alongX(b.x0 + x + 0.5));
  const depth = depthOf(region, shape);
  for (let y = 0, q = 0; y < h; y++) {
    const atY = alongY(b.y0 + y + 0.5);
    for (let x = 0; x < w; x++, q++) {
      const inside = depth(columns[x]!, atY);
      mask[q] = inside < 0 ? 0 : feather > 0 ? Math.min(1, inside / feather) : 1;
    }
  }
  return { bounds: b, mask };
}

/** Applies every redaction to `image` in place. Pixels outside all regions are left bit-identical. */
export function applyRedactions(image: RawImage, regions: readonly RedactionRegion[]): void {
  for (const r of regions) applyOne(image, r);
}

function applyOne(image: RawImage, r: RedactionRegion): void {
  const { bounds, mask } = regionMask(r.region, r.shape, r.feather, image.width, image.height);
  const w = bounds.x1 - bounds.x0;
  const h = bounds.y1 - bounds.y0;
  if (w <= 0 || h <= 0) return;
  const { patch, px0, py0, pw } = renderPatch(image, bounds, r.op);
  const { data, width, channels: C } = image;
  for (let y = 0, q = 0; y < h; y++) {
    let i = ((bounds.y0 + y) * width + bounds.x0) * C;
    let j = ((bounds.y0 + y - py0) * pw + (bounds.x0 - px0)) * C;
    for (let x = 0; x < w; x++, q++, i += C, j += C) {
      const m = mask[q]!;
      if (m === 0) continue;
      // Values are never negative, so adding a half and truncating rounds.
      const r = data[i]!;
      const g = data[i + 1]!;
      const b = data[i + 2]!;
      data[i] = (r + (patch[j]! - r) * m + 0.5) | 0;
      data[i + 1] = (g + (patch[j + 1]! - g) * m + 0.5) | 0;
      data[i + 2] = (b + (patch[j + 2]! - b) * m + 0.5) | 0;
    }
  }
}

/** The redacted pixels around `bounds` (blur reads a margin of 2 sigma), and where the patch sits. */
function renderPatch(
  image: RawImage,
  bounds: { x0: number; y0: number; x1: number; y1: number },
  op: RedactionOp,
): { patch: Float32Array; px0: number; py0: number; pw: number } {
  // Two sigmas hold 95% of the kernel: enough context for a blur nobody must be able to invert.
  const margin = op.kind === 'gaussian' ? Math.ceil(op.sigma * 2) : 0;
  const px0 = Math.max(0, bounds.x0 - margin);
  const py0 = Math.max(0, bounds.y0 - margin);
  const px1 = Math.min(image.width, bounds.x1 + margin);
  const py1 = Math.min(image.height, bounds.y1 + margin);
  const pw = px1 - px0;
  const ph = py1 - py0;
  const C = image.channels;
  if (op.kind === 'gaussian' && reducible(op.sigma, pw, ph)) {
    const window = { x0: bounds.x0 - px0, y0: bounds.y0 - py0, x1: bounds.x1 - px0, y1: bounds.y1 - py0 };
    const source = { data: image.data, stride: image.width * C, x0: px0, y0: py0 };
    return {
      patch: reducedBlur(source, pw, ph, C, op.sigma, window),
      px0: bounds.x0,
      py0: bounds.y0,
      pw: bounds.x1 - bounds.x0,
    };
  }
  const patch = new Float32Array(pw * ph * C);
  for (let y = 0; y < ph; y++) {
    const src = ((py0 + y) * image.width + px0) * C;
    for (let k = 0; k < pw * C; k++) patch[y * pw * C + k] = image.data[src + k]!;
  }
  switch (op.kind) {
    case 'gaussian':
      gaussianBlur(patch, pw, ph, C, op.sigma, {
        x0: bounds.x0 - px0,
        y0: bounds.y0 - py0,
        x1: bounds.x1 - px0,
        y1: bounds.y1 - py0,
      });
      break;
    case 'pixelate':
      pixelate(patch, pw, ph, C, op.block, bounds.x0 - px0, bounds.y0 - py0);
      break;
    case 'solid':
      for (let p = 0; p < pw * ph; p++) for (let c = 0; c < 3; c++) patch[p * C + c] = op.color[c]!;
      break;
  }
  return { patch, px0, py0, pw };
}

/** Widths of three box filters whose succession approximates a gaussian of `sigma` (Kovesi 2010). */
export function boxesForGauss(sigma: number): [number, number, number] {
  const ideal = Math.sqrt((12 * sigma * sigma) / 3 + 1);
  let wl = Math.floor(ideal);
  if (wl % 2 === 0) wl--;
  const wu = wl + 2;
  const m = Math.round((12 * sigma * sigma - 3 * wl * wl - 12 * wl - 9) / (-4 * wl - 4));
  return [0, 1, 2].map((i) => (i < m ? wl : wu)) as [number, number, number];
}

/**
 * In-place gaussian blur (three box passes each way, edges clamped), O(1) per pixel in sigma.
 * Large sigmas blur a reduced copy and scale it back: the same look at a fraction of the cost;
 * then only `window` is written back (the rest of `px` is context).
 */
export function gaussianBlur(
  px: Float32Array,
  w: number,
  h: number,
  C: number,
  sigma: number,
  window: { x0: number; y0: number; x1: number; y1: number } = { x0: 0, y0: 0, x1: w, y1: h },
): void {
  if (!reducible(sigma, w, h)) {
    blurInPlace(px, w, h, C, sigma);
    return;
  }
  const out = reducedBlur({ data: px, stride: w * C, x0: 0, y0: 0 }, w, h, C, sigma, window);
  const ww = window.x1 - window.x0;
  for (let y = window.y0; y < window.y1; y++) {
    px.set(out.subarray((y - window.y0) * ww * C, (y - window.y0 + 1) * ww * C), (y * w + window.x0) * C);
  }
}

/** Whether a blur is cheaper on a reduced copy (sigma large for the area). */
function reducible(sigma: number, w: number, h: number): boolean {
  const k = Math.floor(sigma / 3);
  return k >= 2 && w >= 2 * k && h >= 2 * k;
}

/**
 * Blurs a `w` x `h` area read from `src` (any pixel array with a row stride) by reducing it k
 * times, blurring with sigma / k and scaling back; returns only `window` (area coordinates).
 */
function reducedBlur(
  src: { data: ArrayLike<number>; stride: number; x0: number; y0: number },
  w: number,
  h: number,
  C: number,
  sigma: number,
  window: { x0: number; y0: number; x1: number; y1: number },
): Float32Array {
  const k = Math.floor(sigma / 3);
  const sw = Math.ceil(w / k);
  const sh = Math.ceil(h / k);
  const small = new Float32Array(sw * sh * C);
  const colOf = new Int32Array(w);
  for (let x = 0; x < w; x++) colOf[x] = ((x / k) | 0) * C;
  const data = src.data;
  for (let y = 0; y < h; y++) {
    const rowBase = ((y / k) | 0) * sw * C;
    let i = (src.y0 + y) * src.stride + src.x0 * C;
    for (let x = 0; x < w; x++, i += C) {
      const s = rowBase + colOf[x]!;
      small[s]! += data[i]!;
      small[s + 1]! += data[i + 1]!;
      small[s + 2]! += data[i + 2]!;
    }
  }
  for (let sy = 0; sy < sh; sy++) {
    const rows = Math.min(k, h - sy * k);
    for (let sx = 0; sx < sw; sx++) {
      const inv = 1 / (rows * Math.min(k, w - sx * k));
      const s = (sy * sw + sx) * C;
      small[s]! *= inv;
      small[s + 1]! *= inv;
      small[s + 2]! *= inv;
    }
  }
  blurInPlace(small, sw, sh, C, sigma / k);
  // Only the window is needed back at full resolution; columns' weights are shared by every row.
  const span = window.x1 - window.x0;
  const out = new Float32Array(span * (window.y1 - window.y0) * C);
  const cx0 = new Int32Array(span);
  const cwx = new Float32Array(span);
  for (let j = 0; j < span; j++) {
    const fx = Math.min(sw - 1, Math.max(0, (window.x0 + j + 0.5) / k - 0.5));
    const x0 = Math.min(sw - 2, Math.floor(fx));
    cx0[j] = x0 * C;
    cwx[j] = fx - x0;
  }
  let o = 0;
  for (let y = window.y0; y < window.y1; y++) {
    const fy = Math.min(sh - 1, Math.max(0, (y + 0.5) / k - 0.5));
    const y0 = Math.min(sh - 2, Math.floor(fy));
    const wy = fy - y0;
    const row0 = y0 * sw * C;
    const row1 = row0 + sw * C;
    for (let j = 0; j < span; j++, o += C) {
      const wx = cwx[j]!;
      const a = row0 + cx0[j]!;
      const b = row1 + cx0[j]!;
      out[o] = bilinear(small[a]!, small[a + C]!, small[b]!, small[b + C]!, wx, wy);
      out[o + 1] = bilinear(small[a + 1]!, small[a + C + 1]!, small[b + 1]!, small[b + C + 1]!, wx, wy);
      out[o + 2] = bilinear(small[a + 2]!, small[a + C + 2]!, small[b + 2]!, small[b + C + 2]!, wx, wy);
    }
  }
  return out;
}

function blurInPlace(px: Float32Array, w: number, h: number, C: number, sigma: number): void {
  const tmp = new Float32Array(px.length);
  for (const box of boxesForGauss(sigma)) {
    const r = (box - 1) / 2;
    boxPass(px, tmp, w, h, C, r, true);
    boxPass(tmp, px, w, h, C, r, false);
  }
}

/** One running-sum box filter of radius r along rows or columns, edges clamped. */
function boxPass(
  src: Float32Array,
  dst: Float32Array,
  w: number,
  h: number,
  C: number,
  r: number,
  horizontal: boolean,
) {
  const lines = horizontal ? h : w;
  const len = horizontal ? w : h;
  const step = horizontal ? C : w * C;
  const inv = 1 / (2 * r + 1);
  const last = len - 1;
  for (let line = 0; line < lines; line++) {
    const base = horizontal ? line * w * C : line * C;
    for (let c = 0; c < C; c++) {
      const o = base + c;
      const first = src[o]!;
      const end = src[o + last * step]!;
      let acc = 0;
      for (let i = -r; i <= r; i++) acc += i < 0 ? first : i > last ? end : src[o + i * step]!;
      for (let i = 0; i < len; i++) {
        dst[o + i * step] = acc * inv;
        const add = i + r + 1;
        const sub = i - r;
        acc += (add > last ? end : src[o + add * step]!) - (sub < 0 ? first : src[o + sub * step]!);
      }
    }
  }
}

/** Replaces each block (aligned on the region's corner) by its mean colour. */
function pixelate(
  px: Float32Array,
  w: number,
  h: number,
  C: number,
  block: number,
  ox: number,
  oy: number,
): void {
  const startX = ox - Math.ceil(ox / block) * block;
  const startY = oy - Math.ceil(oy / block) * block;
  for (let by = startY; by < h; by += block) {
    for (let bx = startX; bx < w; bx += block) {
      const x0 = Math.max(0, bx);
      const y0 = Math.max(0, by);
      const x1 = Math.min(w, bx + block);
      const y1 = Math.min(h, by + block);
      const sum = [0, 0, 0];
      const n = (x1 - x0) * (y1 - y0);
      if (n <= 0) continue;
      for (let y = y0; y < y1; y++)
        for (let x = x0; x < x1; x++) for (let c = 0; c < 3; c++) sum[c]! += px[(y * w + x) * C + c]!;
      for (let y = y0; y < y1; y++)
        for (let x = x0; x < x1; x++) for (let c = 0; c < 3; c++) px[(y * w + x) * C + c] = sum[c]! / n;
    }
  }
}
