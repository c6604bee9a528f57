import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { OPENAPI_FILE, renderOpenApi } from './openapi.ts';

describe('openapi.json', () => {
  it('is what the server documents (run npm run openapi after changing a route or schema)', async () => {
    const committed = await readFile(OPENAPI_FILE, 'utf8');
    const rendered = await renderOpenApi();
    // Parsed first, so a failure shows which paths or schemas drifted; then byte for byte.
    expect(JSON.parse(committed)).toEqual(JSON.parse(rendered));
    expect(committed).toBe(rendered);
  });

  it('renders the same document every time', async () => {
    expect(await renderOpenApi()).toBe(await renderOpenApi());
  });
});
