import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CTC_CHARSETS } from '@nestor/core';
import { describe, expect, it } from 'vitest';
import { findModel, MODELS } from './manifest.ts';
import { DEFAULT_MODELS_DIR, materialise, packageDir, sha256 } from './prepare.ts';

const PPOCR_REC = findModel('ppocr-v4-rec')!;
const assets = path.join(packageDir(PPOCR_REC.source.package), 'assets');
const FULL_WIDTH_OFFSET = 0xfee0;

describe('the model manifest', () => {
  it('has unique ids and files, each with a licence, an input and a decoder', () => {
    expect(new Set(MODELS.map((m) => m.id)).size).toBe(MODELS.length);
    expect(new Set(MODELS.map((m) => m.file)).size).toBe(MODELS.length);
    for (const m of MODELS) {
      expect(m.source.license).not.toBe('');
      expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(m.input.width * m.input.height).toBeGreaterThan(0);
    }
  });

  it.each(MODELS.map((m) => [m.id, m] as const))(
    '%s: the npm package file and the placed file match the record',
    async (_id, m) => {
      const source = new Uint8Array(await readFile(path.join(packageDir(m.source.package), m.source.path)));
      const placed = new Uint8Array(await readFile(path.join(DEFAULT_MODELS_DIR, m.file)));
      expect(sha256(placed)).toBe(m.sha256);
      expect(placed.length).toBe(m.bytes);
      if (m.source.exportedFrom) {
        expect(sha256(source)).toBe(m.source.exportedFrom.sha256);
        // The exporter is deterministic: converting again gives the recorded file, byte for byte.
        const again = await materialise(m);
        expect(sha256(again)).toBe(m.sha256);
      } else {
        expect(sha256(source)).toBe(m.sha256);
      }
    },
  );
});

describe('PPOCR_REC', () => {
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
