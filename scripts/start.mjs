#!/usr/bin/env node
// `npm start`: build the web app when apps/web/out is missing or stale, then serve it with the API.
import { register } from 'tsx/esm/api';

register();
const { ensureWebBuild } = await import('../apps/web/src/build/ensure-build.ts');
try {
  await ensureWebBuild((line) => process.stderr.write(`nestor: ${line}\n`));
} catch (error) {
  process.stderr.write(`nestor: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(3);
}
const { main } = await import('../apps/server/src/main.ts');
process.exitCode = await main();
