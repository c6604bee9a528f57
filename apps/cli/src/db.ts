import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { NestorError } from '@nestor/core';
import {
  type BackupSummary,
  backupToFile,
  type DatabaseTarget,
  openDatabase,
  restoreFromFile,
} from '@nestor/db';
import { loadConfig } from '@nestor/engine-node';

/** The configured database: PostgreSQL when `database.url` is set, else PGlite in `database.dataDir`. */
export function databaseTarget(configFile: string | undefined, cwd: string): DatabaseTarget {
  const { config, file } = loadConfig({
    ...(configFile ? { file: path.resolve(cwd, configFile) } : {}),
    cwd,
  });
  const { url, dataDir } = config.database;
  if (url) return { url };
  if (dataDir.startsWith('memory://')) {
    throw new NestorError(
      'E_INVALID_CONFIG',
      'database.dataDir is memory://: there is nothing to back up or restore',
    );
  }
  // Relative to the config file, as the server reads it.
  return { dataDir: path.resolve(file ? path.dirname(file) : cwd, dataDir) };
}

const describe = (s: BackupSummary) =>
  `${s.rows} rows in ${Object.keys(s.tables).length} tables (${Object.entries(s.tables)
    .map(([t, n]) => `${t} ${n}`)
    .join(', ')}), schema migrations ${s.migrations.join(', ')}`;

/**
 * `nestor db backup <file>` and `nestor db restore <file> --yes`. The file is JSON lines (gzip
 * when it ends in .gz). A PGlite folder is one process's: stop the server before using these on it.
 */
export async function dbCommand(
  action: 'backup' | 'restore',
  file: string,
  options: {
    readonly config: string | undefined;
    readonly yes: boolean;
    readonly cwd: string;
    /** Stops the backup (its partial file removed) or the restore (rolled back). */
    readonly signal?: AbortSignal | undefined;
  },
  log: (line: string) => void,
): Promise<number> {
  if (action === 'restore' && !options.yes) {
    throw new NestorError(
      'E_INVALID_OPTION',
      'restore replaces every row of the database: add --yes to confirm',
    );
  }
  const target = path.resolve(options.cwd, file);
  const database = databaseTarget(options.config, options.cwd);
  if ('dataDir' in database) {
    // A backup of a folder that holds no database is a mistake; a restore may create one.
    if (action === 'backup' && !existsSync(database.dataDir)) {
      throw new NestorError('E_INVALID_CONFIG', `There is no PGlite database in ${database.dataDir}`);
    }
    mkdirSync(database.dataDir, { recursive: true });
  }
  const db = await openDatabase(database);
  try {
    if (action === 'backup') {
      log(`nestor db backup: ${target}: ${describe(await backupToFile(db, target, options.signal))}`);
    } else {
      log(`nestor db restore: ${target}: ${describe(await restoreFromFile(db, target, options.signal))}`);
    }
    return 0;
  } finally {
    await db.close();
  }
}
