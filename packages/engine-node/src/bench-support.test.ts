import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { resizedJpeg, uprightJpeg } from './bench-support.ts';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../fixtures/${name}.heic`, import.meta.url)));

describe('bench photos', () => {
  it('an HEIC as a JPEG of its own pixels, upright (the floor its decode is timed against)', async () => {
    const { jpeg, width, height } = await uprightJpeg(fixture('blocks-irot90'));
    expect([width, height]).toEqual([64, 96]);
    const meta = await sharp(jpeg).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 64, 96]);
  });

  it('a photo cover-resized to a bench size, HEIC included', async () => {
    const jpeg = await resizedJpeg(fixture('blocks'), 48, 48);
    const meta = await sharp(jpeg).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 48, 48]);
  });
});
