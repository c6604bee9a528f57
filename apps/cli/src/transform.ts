import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type ImageCodec,
  imageBox,
  type Label,
  type QuarterTurn,
  type RawImage,
  turnBox,
  turnImage,
} from '@nestor/core';
import type { GroundTruthImage } from './eval-metrics.ts';
import { encodeDrawn, readAnnotations, readSetImage } from './labelled-set.ts';
import type { Io } from './main.ts';

export interface TransformFlags {
  readonly setDir: string;
  readonly outDir: string;
  readonly gamma: number;
  readonly gain: number;
  /** Clockwise quarter turn; 0 = none. */
  readonly turn: 0 | QuarterTurn;
  /** Only photos with a label of this class; all photos when absent. */
  readonly label?: Label;
}

/** Grey level v becomes 255 x gain x (v / 255)^gamma: a night or under-exposed version of a photo. */
export function darkenCurve(gamma: number, gain: number): Uint8Array {
  return Uint8Array.from({ length: 256 }, (_, v) => Math.round(255 * gain * (v / 255) ** gamma));
}

/** The image through the curve; alpha, if any, is kept. */
export function darken(image: RawImage, curve: Uint8Array): RawImage {
  const data = new Uint8Array(image.data.length);
  const c = image.channels;
  for (let i = 0; i < data.length; i++) data[i] = i % c === 3 ? image.data[i]! : curve[image.data[i]!]!;
  return { ...image, data };
}

/** A label of an upright photo (width x height), moved onto the photo turned clockwise by `turn`. */
export function turnLabel<T extends { x: number; y: number; w: number; h: number }>(
  label: T,
  turn: QuarterTurn,
  width: number,
  height: number,
): T {
  const b = turnBox(imageBox(label.x, label.y, label.w, label.h), turn, width, height);
  return { ...label, x: b.x, y: b.y, w: b.width, h: b.height };
}

/** Writes the set's photos darkened and turned, same names (as JPEG), labels moved with them, for `nestor eval`. */
export async function runTransform(flags: TransformFlags, io: Io, codec: ImageCodec): Promise<number> {
  const photos = await readAnnotations(flags.setDir);
  const chosen = photos.filter((p) => !flags.label || p.boxes.some((b) => b.label === flags.label));
  const curve = darkenCurve(flags.gamma, flags.gain);
  const images: GroundTruthImage[] = [];
  for (const photo of chosen) {
    const upright = await readSetImage(flags.setDir, photo.file, codec);
    const dark = darken(upright, curve);
    const image = flags.turn ? turnImage(dark, flags.turn) : dark;
    const file = photo.file.replace(/\.[^./]+$/, '.jpg');
    await mkdir(path.dirname(path.join(flags.outDir, file)), { recursive: true });
    await writeFile(path.join(flags.outDir, file), await encodeDrawn(codec, image, 'jpeg', 92));
    const turn = flags.turn;
    const boxes = turn
      ? photo.boxes.map((b) => turnLabel(b, turn, upright.width, upright.height))
      : photo.boxes;
    images.push({ ...photo, file, width: image.width, height: image.height, boxes });
  }
  await mkdir(flags.outDir, { recursive: true });
  await writeFile(path.join(flags.outDir, 'annotations.json'), `${JSON.stringify({ images }, null, 2)}\n`);
  io.stderr.write(
    `transform: ${images.length} photos, gamma ${flags.gamma}, gain ${flags.gain}, turned ${flags.turn}°, in ${flags.outDir}\n`,
  );
  return 0;
}
