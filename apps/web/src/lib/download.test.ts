import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { anonymizedName, detectionsName, uniqueNames, zipFiles } from './download.ts';

describe('download names', () => {
  it.each([
    ['street.jpg', 'image/jpeg', 'street.anonymized.jpg'],
    ['street.JPG', 'image/webp', 'street.anonymized.webp'],
    ['no-extension', 'image/png', 'no-extension.anonymized.png'],
    ['.hidden', 'image/png', 'image.anonymized.png'],
    ['a.b.tiff', 'image/tiff', 'a.b.anonymized.tiff'],
    ['x.jpg', 'application/x-unknown', 'x.anonymized.bin'],
  ])('%s as %s → %s', (name, mime, expected) => {
    expect(anonymizedName(name, mime)).toBe(expected);
  });

  it('detections are JSON next to the image name', () => {
    expect(detectionsName('car.png')).toBe('car.detections.json');
  });

  it('repeated names get a number', () => {
    expect(uniqueNames(['a.jpg', 'a.jpg', 'b', 'b', 'a.jpg'])).toEqual([
      'a.jpg',
      'a (2).jpg',
      'b',
      'b (2)',
      'a (3).jpg',
    ]);
  });
});

describe('zipFiles', () => {
  it('holds every file, byte for byte, under unique names', () => {
    const image = new Uint8Array([0xff, 0xd8, 1, 2, 3]);
    const json = new TextEncoder().encode('{"counts":{"face":1}}');
    const zip = zipFiles([
      { name: 'a.anonymized.jpg', bytes: image },
      { name: 'a.anonymized.jpg', bytes: image },
      { name: 'a.detections.json', bytes: json },
    ]);
    const files = unzipSync(zip);
    expect(Object.keys(files)).toEqual(['a.anonymized.jpg', 'a.anonymized (2).jpg', 'a.detections.json']);
    expect(files['a.anonymized (2).jpg']).toEqual(image);
    expect(new TextDecoder().decode(files['a.detections.json'])).toBe('{"counts":{"face":1}}');
  });
});
