import { sniffImageFormat } from '@nestor/core';
import sharp, { type Sharp } from 'sharp';
import { decodeHeic } from './heic.ts';

/** A JPEG of `width` x `height` made from a real photo (cover-resized), for benchmarks at set sizes. */
export async function resizedJpeg(
  photo: Uint8Array,
  width: number,
  height: number,
  quality = 90,
): Promise<Uint8Array> {
  const out = await (await upright(photo))
    .resize(width, height, { fit: 'cover' })
    .jpeg({ quality })
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** The photo's own pixels, upright, as a JPEG: the floor an HEIC's decode is timed against. */
export async function uprightJpeg(
  photo: Uint8Array,
  quality = 90,
): Promise<{ jpeg: Uint8Array; width: number; height: number }> {
  const { data, info } = await (await upright(photo)).jpeg({ quality }).toBuffer({ resolveWithObject: true });
  return {
    jpeg: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
  };
}

/** The codec floor: time to decode a JPEG to raw pixels and encode it back at the same quality. */
export async function timeDecodeEncode(
  jpeg: Uint8Array,
  quality = 90,
): Promise<{ decodeMs: number; encodeMs: number }> {
  let t = performance.now();
  const { data, info } = await sharp(jpeg).rotate().raw().toBuffer({ resolveWithObject: true });
  const decodeMs = performance.now() - t;
  t = performance.now();
  await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .jpeg({ quality })
    .toBuffer();
  return { decodeMs, encodeMs: performance.now() - t };
}

/** The photo upright, as sharp reads it or, for HEIC (which sharp cannot decode), as libheif does. */
async function upright(photo: Uint8Array): Promise<Sharp> {
  if (sniffImageFormat(photo) !== 'heic') return sharp(photo).rotate();
  const { width, height, channels, data } = await decodeHeic(photo, {
    maxPixels: Number.MAX_SAFE_INTEGER,
    minSide: 1,
    maxFrames: 1,
  });
  return sharp(data, { raw: { width, height, channels } });
}
