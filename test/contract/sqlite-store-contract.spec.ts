import { afterAll, beforeAll, describe } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { TypeOrmIdempotencyStore } from '../../lib/index.js';
import { openSqlite, SQLITE_KINDS, sqliteDirectory, sqliteOptions } from '../support/sqlite-databases.js';
import { describeStoreContract } from './store-contract.js';

describe.each(SQLITE_KINDS)('TypeOrmIdempotencyStore on SQLite, %s', (kind) => {
  let directory: Awaited<ReturnType<typeof sqliteDirectory>>;
  let synchronized: DataSource;
  let migrated: DataSource;

  beforeAll(async () => {
    directory = await sqliteDirectory();
    synchronized = await openSqlite(sqliteOptions(kind, directory.file('synchronized.sqlite')), 'synchronize');
    migrated = await openSqlite(sqliteOptions(kind, directory.file('migrated.sqlite')), 'migration');
  });

  afterAll(async () => {
    await synchronized?.destroy();
    await migrated?.destroy();
    await directory?.remove();
  });

  describeStoreContract('table from synchronize', async () => {
    await synchronized.query('DELETE FROM idempotency_records');
    return new TypeOrmIdempotencyStore(synchronized);
  });

  describeStoreContract('table from the migration', async () => {
    await migrated.query('DELETE FROM idempotency_records');
    return new TypeOrmIdempotencyStore(migrated);
  });
});
