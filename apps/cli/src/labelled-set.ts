import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type ImageCodec, type ImageFormat, NestorError, type RawImage } from '@nestor/core';
import type { GroundTruthImage } from './eval-metrics.ts';

/** The images and labels of a set folder (annotations.json, the format of shared/tools/eval.mjs). */
export async function readAnnotations(setDir: string): Promise<GroundTruthImage[]> {
  const annotationsPath = path.join(setDir, 'annotations.json');
  try {
    return (JSON.parse(await readFile(annotationsPath, 'utf8')) as { images: GroundTruthImage[] }).images;
  } catch (error) {
    throw new NestorError('E_INPUT_UNREADABLE', `Could not read ${annotationsPath}`, { cause: error });
  }
}

/** One image of the set, decoded like the pipeline decodes it (EXIF orientation applied), so labels line up. */
export async function readSetImage(setDir: string, file: string, codec: ImageCodec): Promise<RawImage> {
  const bytes = new Uint8Array(await readFile(path.join(setDir, file)));
  return (await codec.decode(bytes, { maxPixels: Number.MAX_SAFE_INTEGER, minSide: 1, maxFrames: 1 })).image;
}

/** Encodes pixels this tool drew (no original to keep metadata from). */
export function encodeDrawn(
  codec: ImageCodec,
  image: RawImage,
  format: ImageFormat,
  quality: number,
): Promise<Uint8Array> {
  return codec.encode(
    image,
    { format, quality, keepMetadata: false },
    { image, format, source: new Uint8Array() },
  );
}
