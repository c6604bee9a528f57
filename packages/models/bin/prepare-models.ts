import { isNestorError } from '@nestor/core';
import { DEFAULT_MODELS_DIR, prepareModels } from '../src/index.ts';

/** `npm run models`: verify and place every model; `--quiet` prints only problems (postinstall). */
const quiet = process.argv.includes('--quiet');
const dirFlag = process.argv.indexOf('--dir');
const dir = dirFlag > 0 ? process.argv[dirFlag + 1]! : DEFAULT_MODELS_DIR;
try {
  const results = await prepareModels(dir);
  if (!quiet)
    for (const r of results)
      console.log(`${r.status === 'placed' ? 'placed ' : 'ok     '} ${r.id}  ${r.file}`);
} catch (error) {
  console.error(`models: ${isNestorError(error) ? `${error.code}: ${error.message}` : String(error)}`);
  process.exitCode = 1;
}
