import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ImageCodec, Label, RawImage } from '@nestor/core';
import type { GroundTruthImage } from './eval-metrics.ts';
import { encodeDrawn, readAnnotations, readSetImage } from './labelled-set.ts';
import type { Io } from './main.ts';

export interface DarkenFlags {
  readonly setDir: string;
  readonly outDir: string;
  readonly gamma: number;
  readonly gain: number;
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

/** Writes the set's photos darkened, same names and labels, for `nestor eval`. */
export async function runDarken(flags: DarkenFlags, io: Io, codec: ImageCodec): Promise<number> {
  const photos = await readAnnotations(flags.setDir);
  const chosen = photos.filter((p) => !flags.label || p.boxes.some((b) => b.label === flags.label));
  const curve = darkenCurve(flags.gamma, flags.gain);
  const images: GroundTruthImage[] = [];
  for (const photo of chosen) {
    const image = darken(await readSetImage(flags.setDir, photo.file, codec), curve);
    const file = photo.file.replace(/\.[^./]+$/, '.jpg');
    await mkdir(path.dirname(path.join(flags.outDir, file)), { recursive: true });
    await writeFile(path.join(flags.outDir, file), await encodeDrawn(codec, image, 'jpeg', 92));
    images.push({ ...photo, file, width: image.width, height: image.height });
  }
  await mkdir(flags.outDir, { recursive: true });
  await writeFile(path.join(flags.outDir, 'annotations.json'), `${JSON.stringify({ images }, null, 2)}\n`);
  io.stderr.write(
    `darken: ${images.length} photos, gamma ${flags.gamma}, gain ${flags.gain}, in ${flags.outDir}\n`,
  );
  return 0;
}
