import { FILE_EXTENSIONS, IMAGE_FORMATS, type ImageFormat, MIME_TYPES } from '@nestor/core';
import { zipSync } from 'fflate';

const stem = (name: string) => name.replace(/\.[^./\\]*$/, '') || 'image';

function extensionOf(mimeType: string): string {
  const format = IMAGE_FORMATS.find((f: ImageFormat) => MIME_TYPES[f] === mimeType);
  return format ? FILE_EXTENSIONS[format] : '.bin';
}

/** `street.jpg` anonymized as WebP → `street.anonymized.webp`. */
export const anonymizedName = (fileName: string, mimeType: string): string =>
  `${stem(fileName)}.anonymized${extensionOf(mimeType)}`;

/** `street.jpg` → `street.detections.json`. */
export const detectionsName = (fileName: string): string => `${stem(fileName)}.detections.json`;

/** Names made unique in order: a second `a.jpg` becomes `a (2).jpg`. */
export function uniqueNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.map((name) => {
    let candidate = name;
    for (let n = 2; seen.has(candidate); n++) {
      const dot = name.lastIndexOf('.');
      candidate = dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
    }
    seen.add(candidate);
    return candidate;
  });
}

/** A ZIP of the files; images are stored as they are (already compressed), JSON is deflated. */
export function zipFiles(files: readonly { name: string; bytes: Uint8Array }[]): Uint8Array {
  const names = uniqueNames(files.map((f) => f.name));
  const entries: Record<string, [Uint8Array, { level: 0 | 6 }]> = {};
  files.forEach((file, i) => {
    const name = names[i]!;
    entries[name] = [file.bytes, { level: name.endsWith('.json') ? 6 : 0 }];
  });
  return zipSync(entries);
}
