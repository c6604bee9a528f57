import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig, Nestor } from '@nestor/core';
import { createNodeEngine, createSharpCodec } from '@nestor/engine-node';
import { MODELS } from '@nestor/models';
import { buildApp } from './app.ts';

/** The committed OpenAPI document (`npm run openapi` writes it; a test fails when it drifts). */
export const OPENAPI_FILE = fileURLToPath(new URL('../openapi.json', import.meta.url));

/**
 * The server's OpenAPI document as committed: pretty-printed JSON with a trailing newline. The
 * document does not depend on models, so the app runs on an empty models folder and loads nothing.
 */
export async function renderOpenApi(): Promise<string> {
  const modelsDir = await mkdtemp(path.join(os.tmpdir(), 'nestor-openapi-'));
  const config = defaultConfig();
  const engine = createNodeEngine({ autoPrepare: false, modelsDir });
  const nestor = new Nestor({ engine, codec: createSharpCodec(), models: MODELS, config });
  const app = buildApp({ nestor, config });
  try {
    await app.ready();
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
    await nestor.dispose();
    await rm(modelsDir, { recursive: true, force: true });
  }
}
