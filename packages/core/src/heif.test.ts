import { describe, expect, it } from 'vitest';
import { heifProperties, isDisplayP3 } from './heif.ts';

const u32 = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));
const box = (type: string, ...content: number[][]) => {
  const body = content.flat();
  return [...u32(8 + body.length), ...ascii(type), ...body];
};
/** A HEIF start: ftyp, then meta (a full box) / iprp / ipco holding `properties`. */
const heif = (...properties: number[][]) =>
  new Uint8Array([
    ...box('ftyp', ascii('heic'), u32(0), ascii('mif1')),
    ...box('meta', u32(0), box('iprp', box('ipco', ...properties))),
  ]);
/** An ICC profile with only its three colorant tags, each an XYZ of s15Fixed16 numbers. */
const icc = (colorants: Record<'rXYZ' | 'gXYZ' | 'bXYZ', number[]>) => {
  const tags = Object.entries(colorants);
  const table = tags.flatMap(([sig], i) => [
    ...ascii(sig),
    ...u32(132 + 12 * tags.length + 20 * i),
    ...u32(20),
  ]);
  const data = tags.flatMap(([, xyz]) => [
    ...ascii('XYZ '),
    ...u32(0),
    ...xyz.flatMap((v) => u32(Math.round(v * 65536) >>> 0)),
  ]);
  return [...new Array<number>(128).fill(0), ...u32(tags.length), ...table, ...data];
};
const P3 = { rXYZ: [0.5151, 0.2412, -0.0011], gXYZ: [0.292, 0.6922, 0.0419], bXYZ: [0.1571, 0.0666, 0.7841] };
const SRGB = {
  rXYZ: [0.4361, 0.2225, 0.0139],
  gXYZ: [0.3851, 0.7169, 0.0971],
  bXYZ: [0.1431, 0.0606, 0.7141],
};
const nclx = (primaries: number) => box('colr', ascii('nclx'), [0, primaries, 0, 13, 0, 6, 0x80]);

describe('heifProperties', () => {
  it('lists the ipco properties with their payloads', () => {
    const bytes = heif(box('ispe', u32(0), u32(4032), u32(3024)), nclx(12));
    expect(heifProperties(bytes).map((p) => [p.type, p.payload.length])).toEqual([
      ['ispe', 12],
      ['colr', 11],
    ]);
  });

  it('gives what comes before a cut', () => {
    const bytes = heif(box('ispe', u32(0), u32(640), u32(480)), nclx(12));
    expect(
      heifProperties(bytes.subarray(0, bytes.length - 5)).map((p) => [p.type, p.payload.length]),
    ).toEqual([
      ['ispe', 12],
      ['colr', 6],
    ]);
  });
});

describe('isDisplayP3', () => {
  it.each([
    {
      name: 'an ICC profile with P3 colorants (an iPhone)',
      bytes: heif(box('colr', ascii('prof'), icc(P3))),
      want: true,
    },
    { name: 'an sRGB ICC profile', bytes: heif(box('colr', ascii('prof'), icc(SRGB))), want: false },
    { name: 'nclx primaries 12 (P3)', bytes: heif(nclx(12)), want: true },
    { name: 'nclx primaries 1 (BT.709, sRGB)', bytes: heif(nclx(1)), want: false },
    { name: 'no colour property', bytes: heif(box('ispe', u32(0), u32(8), u32(8))), want: false },
    {
      name: 'a profile cut short',
      bytes: heif(box('colr', ascii('prof'), icc(P3).slice(0, 150))),
      want: false,
    },
  ])('$name: $want', ({ bytes, want }) => {
    expect(isDisplayP3(bytes)).toBe(want);
  });
});
