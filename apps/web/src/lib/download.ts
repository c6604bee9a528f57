import { FILE_EXTENSIONS, IMAGE_FORMATS, type ImageFormat, MIME_TYPES } from '@nestor/core';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';

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

/**
 * A ZIP of the files; images are stored as they are (already compressed), JSON is deflated. Files
 * are read one after another and the archive stays in chunks, so a batch of hundreds of photos
 * holds about its own size once in memory, and the page can paint between files.
 * @example const zip = await zipBlob([{ name: 'a.anonymized.jpg', blob }])
 */
export async function zipBlob(files: readonly { name: string; blob: Blob }[]): Promise<Blob> {
  const names = uniqueNames(files.map((f) => f.name));
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let failure: Error | null = null;
  // fflate hands out chunks it allocated itself, each over a plain ArrayBuffer.
  const zip = new Zip((error, chunk) => {
    if (error) failure = error;
    else chunks.push(chunk as Uint8Array<ArrayBuffer>);
  });
  for (const [i, file] of files.entries()) {
    const name = names[i]!;
    const entry = name.endsWith('.json') ? new ZipDeflate(name, { level: 6 }) : new ZipPassThrough(name);
    zip.add(entry);
    entry.push(new Uint8Array(await file.blob.arrayBuffer()), true);
  }
  zip.end();
  if (failure) throw failure;
  return new Blob(chunks, { type: 'application/zip' });
}

/** Saves a Blob as a download; its object URL is revoked once the browser has started the download. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  // The click only queues the download, which reads the URL later.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
