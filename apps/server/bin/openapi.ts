/**
 * `npm run openapi`: writes apps/server/openapi.json from the server's routes;
 * `npm run openapi -- --check` exits 1 when the committed file differs (drift).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OPENAPI_FILE, renderOpenApi } from '../src/openapi.ts';

const check = process.argv.includes('--check');
const shown = path.relative(process.cwd(), OPENAPI_FILE);
const rendered = await renderOpenApi();
if (check) {
  const committed = await readFile(OPENAPI_FILE, 'utf8').catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  });
  if (committed === rendered) {
    console.log(`${shown} is up to date`);
  } else {
    console.error(
      committed === undefined
        ? `${shown} is missing: run npm run openapi and commit it`
        : `${shown} differs from the server's routes: run npm run openapi and commit the result`,
    );
    process.exitCode = 1;
  }
} else {
  await writeFile(OPENAPI_FILE, rendered);
  console.log(`wrote ${shown}`);
}
