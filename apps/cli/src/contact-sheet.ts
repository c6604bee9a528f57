import type { RawImage } from '@nestor/core';
import type { XYWH } from './eval-metrics.ts';

/** RGB colours of the outlines a review tile draws. */
export const SHEET_COLOURS = {
  /** The box the tile is about: the false positive, or the missed label. */
  focus: [255, 220, 0],
  truth: [0, 230, 0],
  prediction: [255, 40, 40],
  caption: [255, 255, 255],
  background: [24, 24, 24],
} as const satisfies Record<string, readonly [number, number, number]>;

export interface TileInput {
  readonly focus: XYWH;
  readonly truths: readonly XYWH[];
  readonly predictions: readonly XYWH[];
}

/** How much of the surroundings a tile shows: the focus box's long side times this. */
const CONTEXT = 2.5;
/** The smallest area a tile shows, in image pixels, so a 10 px face is not blown up to mush. */
const MIN_SPAN = 32;

/**
 * One square tile of a review sheet: the image around `focus`, scaled to `size` px, with the
 * labelled boxes, the predicted regions and the focus outlined.
 */
export function renderTile(image: RawImage, tile: TileInput, size: number): RawImage {
  const span = Math.max(MIN_SPAN, CONTEXT * Math.max(tile.focus.w, tile.focus.h));
  const x0 = tile.focus.x + tile.focus.w / 2 - span / 2;
  const y0 = tile.focus.y + tile.focus.h / 2 - span / 2;
  const scale = size / span;
  const out = filled(size, size, SHEET_COLOURS.background);
  // 2x2 samples per pixel: shrinking a large face stays readable without a resampling library.
  const sub = [0.25, 0.75];
  for (let ty = 0; ty < size; ty++) {
    for (let tx = 0; tx < size; tx++) {
      const sum = [0, 0, 0];
      let n = 0;
      for (const dy of sub) {
        for (const dx of sub) {
          const sx = Math.floor(x0 + (tx + dx) / scale);
          const sy = Math.floor(y0 + (ty + dy) / scale);
          if (sx < 0 || sy < 0 || sx >= image.width || sy >= image.height) continue;
          const i = (sy * image.width + sx) * image.channels;
          sum[0]! += image.data[i]!;
          sum[1]! += image.data[i + 1]!;
          sum[2]! += image.data[i + 2]!;
          n++;
        }
      }
      if (n === 0) continue;
      const o = (ty * size + tx) * 3;
      out.data[o] = Math.round(sum[0]! / n);
      out.data[o + 1] = Math.round(sum[1]! / n);
      out.data[o + 2] = Math.round(sum[2]! / n);
    }
  }
  const toTile = (b: XYWH): XYWH => ({
    x: (b.x - x0) * scale,
    y: (b.y - y0) * scale,
    w: b.w * scale,
    h: b.h * scale,
  });
  for (const b of tile.predictions) outline(out, toTile(b), SHEET_COLOURS.prediction);
  for (const b of tile.truths) outline(out, toTile(b), SHEET_COLOURS.truth);
  outline(out, toTile(tile.focus), SHEET_COLOURS.focus);
  return out;
}

/** Tiles of one size laid out row by row, `columns` wide, with a 2 px gutter. */
export function assembleSheet(tiles: readonly RawImage[], columns: number): RawImage {
  const size = tiles[0]?.width ?? 0;
  const gutter = 2;
  const cols = Math.max(1, Math.min(columns, tiles.length));
  const rows = Math.max(1, Math.ceil(tiles.length / cols));
  const sheet = filled(cols * (size + gutter) + gutter, rows * (size + gutter) + gutter, [0, 0, 0]);
  for (const [k, tile] of tiles.entries()) {
    const left = gutter + (k % cols) * (size + gutter);
    const top = gutter + Math.floor(k / cols) * (size + gutter);
    for (let y = 0; y < tile.height; y++) {
      const from = y * tile.width * 3;
      sheet.data.set(tile.data.subarray(from, from + tile.width * 3), ((top + y) * sheet.width + left) * 3);
    }
  }
  return sheet;
}

function filled(width: number, height: number, rgb: readonly number[]): RawImage & { data: Uint8Array } {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { width, height, channels: 3, data };
}

function setPixel(img: RawImage, x: number, y: number, rgb: readonly number[]): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  img.data.set(rgb, (y * img.width + x) * 3);
}

/** A 1 px rectangle outline, clipped to the image. */
function outline(img: RawImage, b: XYWH, rgb: readonly number[]): void {
  const x0 = Math.round(b.x);
  const y0 = Math.round(b.y);
  const x1 = Math.max(x0, Math.round(b.x + b.w) - 1);
  const y1 = Math.max(y0, Math.round(b.y + b.h) - 1);
  for (let x = x0; x <= x1; x++) {
    setPixel(img, x, y0, rgb);
    setPixel(img, x, y1, rgb);
  }
  for (let y = y0; y <= y1; y++) {
    setPixel(img, x0, y, rgb);
    setPixel(img, x1, y, rgb);
  }
}

/** 3x5 glyphs, one row per string, for the characters a caption may hold. */
const GLYPHS: Readonly<Record<string, readonly string[]>> = {
  '0': ['111', '101', '101', '101', '111'],
  '1': ['010', '110', '010', '010', '111'],
  '2': ['111', '001', '111', '100', '111'],
  '3': ['111', '001', '111', '001', '111'],
  '4': ['101', '101', '111', '001', '001'],
  '5': ['111', '100', '111', '001', '111'],
  '6': ['111', '100', '111', '101', '111'],
  '7': ['111', '001', '001', '001', '001'],
  '8': ['111', '101', '111', '101', '111'],
  '9': ['111', '101', '111', '001', '111'],
  '.': ['000', '000', '000', '000', '010'],
  ' ': ['000', '000', '000', '000', '000'],
};
/** Each glyph pixel is drawn as a PIXEL x PIXEL square. */
const PIXEL = 2;

/**
 * A copy of `tile` with `text` at its bottom-left corner on a dark strip. The built-in 3x5 font
 * has digits, dots and spaces; other characters are skipped.
 */
export function captioned(tile: RawImage, text: string): RawImage {
  const img = { ...tile, data: tile.data.slice() };
  const chars = [...text].filter((c) => GLYPHS[c]);
  const height = 5 * PIXEL + 2;
  const top = img.height - height;
  const width = chars.length * 4 * PIXEL + 2;
  for (let y = top; y < img.height; y++) for (let x = 0; x < width; x++) setPixel(img, x, y, [0, 0, 0]);
  for (const [k, c] of chars.entries()) {
    for (const [row, bits] of GLYPHS[c]!.entries()) {
      for (let col = 0; col < 3; col++) {
        if (bits[col] !== '1') continue;
        for (let py = 0; py < PIXEL; py++) {
          for (let px = 0; px < PIXEL; px++) {
            setPixel(img, 1 + (k * 4 + col) * PIXEL + px, top + 1 + row * PIXEL + py, SHEET_COLOURS.caption);
          }
        }
      }
    }
  }
  return img;
}
