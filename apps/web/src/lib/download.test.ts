import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { anonymizedName, detectionsName, uniqueNames, zipBlob } from './download.ts';

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

describe('zipBlob', () => {
  it('holds every file, byte for byte, under unique names; images stored, JSON deflated', async () => {
    const image = new Uint8Array([0xff, 0xd8, 1, 2, 3]);
    const text = `{"counts":{"face":1}}${' '.repeat(500)}`;
    const zip = await zipBlob([
      { name: 'a.anonymized.jpg', blob: new Blob([image]) },
      { name: 'a.anonymized.jpg', blob: new Blob([image]) },
      { name: 'a.detections.json', blob: new Blob([text]) },
    ]);
    expect(zip.type).toBe('application/zip');
    const bytes = new Uint8Array(await zip.arrayBuffer());
    const files = unzipSync(bytes);
    expect(Object.keys(files)).toEqual(['a.anonymized.jpg', 'a.anonymized (2).jpg', 'a.detections.json']);
    expect(files['a.anonymized (2).jpg']).toEqual(image);
    expect(new TextDecoder().decode(files['a.detections.json'])).toBe(text);
    expect(bytes.length).toBeLessThan(text.length);
  });

  it('reads the files one at a time', async () => {
    let reading = 0;
    let most = 0;
    class SlowBlob extends Blob {
      override async arrayBuffer(): Promise<ArrayBuffer> {
        most = Math.max(most, ++reading);
        await new Promise((resolve) => setImmediate(resolve));
        reading--;
        return super.arrayBuffer();
      }
    }
    const files = Array.from({ length: 5 }, (_, i) => ({ name: `${i}.png`, blob: new SlowBlob([`x${i}`]) }));
    const zip = unzipSync(new Uint8Array(await (await zipBlob(files)).arrayBuffer()));
    expect(Object.keys(zip)).toHaveLength(5);
    expect(most).toBe(1);
  });
});
