import { connect, type Database, type DatabaseTarget } from './database.ts';
import { migrate, readMigrations } from './migrate.ts';

export * from './accounts.ts';
export * from './audit.ts';
export {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  BackupError,
  type BackupSummary,
  backupDatabase,
  backupToFile,
  restoreDatabase,
  restoreFromFile,
} from './backup.ts';
export type { Database, DatabaseTarget, Driver, Row, Sql } from './database.ts';
export { connect } from './database.ts';
export { MIGRATIONS_DIR, type Migration, migrate, readMigrations } from './migrate.ts';
export * from './stats.ts';

/** Connects and applies pending migrations: what the server calls once at start-up. */
export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  const db = await connect(target);
  try {
    await migrate(db, await readMigrations());
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}
