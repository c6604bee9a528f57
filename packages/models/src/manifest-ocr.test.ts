import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CTC_CHARSETS } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { PPOCR_REC } from './manifest-ocr.ts';
import { packageDir, sha256 } from './prepare.ts';

const assets = path.join(packageDir(PPOCR_REC.source.package), 'assets');
const FULL_WIDTH_OFFSET = 0xfee0;

describe('PPOCR_REC', () => {
  it('matches the packaged model file', async () => {
    const bytes = new Uint8Array(
      await readFile(path.join(packageDir(PPOCR_REC.source.package), PPOCR_REC.source.path)),
    );
    expect(bytes.length).toBe(PPOCR_REC.bytes);
    expect(sha256(bytes)).toBe(PPOCR_REC.sha256);
  });

  it("embeds a charset table that agrees with the package's ppocr_keys_v1.txt", async () => {
    if (PPOCR_REC.decoder.kind !== 'ctc') throw new Error('PPOCR_REC must have a CTC decoder');
    const charset = CTC_CHARSETS[PPOCR_REC.decoder.charset];
    const lines = (await readFile(path.join(assets, 'ppocr_keys_v1.txt'), 'utf8')).split('\n');
    // Blank first, space last.
    expect(charset.classes).toBe(lines.length + 2);
    expect(charset.table.get(charset.classes - 1)).toBe(' ');
    for (const [index, char] of charset.table) {
      if (index === charset.classes - 1) continue;
      const line = lines[index - 1]!;
      const ascii =
        line.length === 1 && line.charCodeAt(0) >= 0xff01
          ? String.fromCharCode(line.charCodeAt(0) - FULL_WIDTH_OFFSET)
          : line;
      expect([line, ascii]).toContain(char);
    }
    lines.forEach((line, i) => {
      if (/^[0-9A-Za-z]$/.test(line)) expect(charset.table.get(i + 1)).toBe(line);
    });
  });
});
