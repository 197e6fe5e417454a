import { afterAll, beforeAll, describe } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { TypeOrmIdempotencyStore } from '../../lib/index.js';
import { openSqlite, sqliteDirectory, walFileOptions } from '../support/sqlite-databases.js';
import { describeHttpSemantics } from './http-semantics.js';

/**
 * The HTTP suite with the records on SQLite (a better-sqlite3 file in WAL
 * mode, its table from the migration). The suite's fixture app keeps its
 * own DataSource on PostgreSQL, where it counts side effects whatever the store.
 */
describe('SQLite (better-sqlite3 file, WAL)', () => {
  let directory: Awaited<ReturnType<typeof sqliteDirectory>>;
  let dataSource: DataSource;

  beforeAll(async () => {
    directory = await sqliteDirectory();
    dataSource = await openSqlite(walFileOptions(directory.file('records.sqlite')), 'migration');
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await directory?.remove();
  });

  describeHttpSemantics('TypeOrmIdempotencyStore on SQLite', () => ({ store: new TypeOrmIdempotencyStore(dataSource) }));
});
