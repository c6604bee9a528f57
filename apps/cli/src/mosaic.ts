import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ImageCodec, RawImage } from '@nestor/core';
import type { GroundTruthImage } from './eval-metrics.ts';
import { encodeDrawn, readAnnotations, readSetImage } from './labelled-set.ts';
import type { Io } from './main.ts';

/** Where one labelled photo lands in a mosaic, in mosaic pixels. */
export interface Placement {
  readonly photo: GroundTruthImage;
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Packs photos scaled by `scale` onto canvases of `width` x `height`, row by row (each row as tall
 * as its tallest photo), a new canvas when one is full. Photos that cannot fit even alone are left out.
 */
export function packMosaics(
  photos: readonly GroundTruthImage[],
  width: number,
  height: number,
  scale: number,
): Placement[][] {
  const canvases: Placement[][] = [];
  let current: Placement[] = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const photo of photos) {
    const w = Math.round((photo.width ?? 0) * scale);
    const h = Math.round((photo.height ?? 0) * scale);
    if (w < 1 || h < 1 || w > width || h > height) continue;
    if (x + w > width) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    if (y + h > height) {
      canvases.push(current);
      current = [];
      x = 0;
      y = 0;
      rowHeight = 0;
    }
    current.push({ photo, left: x, top: y, width: w, height: h });
    x += w;
    rowHeight = Math.max(rowHeight, h);
  }
  if (current.length > 0) canvases.push(current);
  return canvases;
}

/** The labels of the placed photos, moved and scaled into the mosaic; complete only if every photo was. */
export function mosaicLabels(
  file: string,
  width: number,
  height: number,
  placements: readonly Placement[],
  scale: number,
): GroundTruthImage {
  return {
    file,
    width,
    height,
    source: `mosaic:x${scale}`,
    complete: placements.every((p) => p.photo.complete === true),
    boxes: placements.flatMap((p) =>
      p.photo.boxes.map((b) => ({
        label: b.label,
        x: p.left + b.x * scale,
        y: p.top + b.y * scale,
        w: b.w * scale,
        h: b.h * scale,
      })),
    ),
  };
}

/** Draws `image` into the RGB canvas at `place`, resampled bilinearly to the place's size. */
export function paste(canvas: RawImage, image: RawImage, place: Omit<Placement, 'photo'>): void {
  const sx = image.width / place.width;
  const sy = image.height / place.height;
  const c = image.channels;
  for (let ty = 0; ty < place.height; ty++) {
    const fy = Math.min(image.height - 1, Math.max(0, (ty + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(image.height - 1, y0 + 1);
    const wy = fy - y0;
    for (let tx = 0; tx < place.width; tx++) {
      const fx = Math.min(image.width - 1, Math.max(0, (tx + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(image.width - 1, x0 + 1);
      const wx = fx - x0;
      const o = ((place.top + ty) * canvas.width + place.left + tx) * 3;
      for (let k = 0; k < 3; k++) {
        const a = image.data[(y0 * image.width + x0) * c + k]!;
        const b = image.data[(y0 * image.width + x1) * c + k]!;
        const d = image.data[(y1 * image.width + x0) * c + k]!;
        const e = image.data[(y1 * image.width + x1) * c + k]!;
        canvas.data[o + k] = Math.round((a * (1 - wx) + b * wx) * (1 - wy) + (d * (1 - wx) + e * wx) * wy);
      }
    }
  }
}

export interface MosaicFlags {
  readonly setDir: string;
  readonly outDir: string;
  readonly scale: number;
  readonly width: number;
  readonly height: number;
  /** Only photos whose `source` starts with this. */
  readonly source?: string;
}

/**
 * `nestor mosaic`: the labelled photos of a set, pasted side by side into large photos (12 MP by
 * default) with their labels, so `nestor eval` measures how a preset finds the same faces when they
 * are a small part of a large photo: a crowd shot with a phone, a stadium, a street.
 */
export async function runMosaic(flags: MosaicFlags, io: Io, codec: ImageCodec): Promise<number> {
  const photos = await readAnnotations(flags.setDir);
  const chosen = photos.filter((p) => !flags.source || (p.source ?? '').startsWith(flags.source));
  const canvases = packMosaics(chosen, flags.width, flags.height, flags.scale);
  await mkdir(path.join(flags.outDir, 'images'), { recursive: true });
  const images: GroundTruthImage[] = [];
  for (const [k, placements] of canvases.entries()) {
    const canvas: RawImage = {
      width: flags.width,
      height: flags.height,
      channels: 3,
      data: new Uint8Array(flags.width * flags.height * 3).fill(128),
    };
    for (const place of placements) {
      paste(canvas, await readSetImage(flags.setDir, place.photo.file, codec), place);
    }
    const file = `images/mosaic-${k + 1}.jpg`;
    const encoded = await encodeDrawn(codec, canvas, 'jpeg', 92);
    await writeFile(path.join(flags.outDir, file), encoded);
    images.push(mosaicLabels(file, flags.width, flags.height, placements, flags.scale));
  }
  await writeFile(path.join(flags.outDir, 'annotations.json'), `${JSON.stringify({ images }, null, 2)}\n`);
  const placed = canvases.reduce((n, c) => n + c.length, 0);
  io.stderr.write(
    `mosaic: ${placed} of ${chosen.length} photos on ${canvases.length} images of ${flags.width}x${flags.height} in ${flags.outDir}\n`,
  );
  return 0;
}
