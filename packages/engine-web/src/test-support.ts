import sharp from 'sharp';

/**
 * A PNG of noise (detail everywhere, nothing to find), the same bytes for the same size and seed:
 * the tests' image for "finds nothing where there is nothing".
 */
export async function noisyPng(width: number, height: number, seed = 3): Promise<Uint8Array> {
  const raw = Buffer.alloc(width * height * 3);
  let state = seed;
  for (let i = 0; i < raw.length; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    raw[i] = state >> 23;
  }
  return new Uint8Array(
    await sharp(raw, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer(),
  );
}
