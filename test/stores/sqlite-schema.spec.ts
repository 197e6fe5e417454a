import { afterEach, describe, expect, it } from '@jest/globals';
import { DataSource, type DataSourceOptions } from 'typeorm';
import {
  CreateIdempotencyRecords,
  IdempotencyConfigurationError,
  IDEMPOTENCY_RECORDS_TABLE,
  SqliteIdempotencyRecord,
  TypeOrmIdempotencyStore,
} from '../../lib/index.js';

const DRIVERS: DataSourceOptions[] = [
  { type: 'better-sqlite3', database: ':memory:' },
  { type: 'sqljs' },
];

/** The table as SQLite sees it: every column (type, NOT NULL, default, key position) and every index with its columns. */
async function describeTable(dataSource: DataSource) {
  const columns = await dataSource.query(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_xinfo(?) ORDER BY cid`, [
    IDEMPOTENCY_RECORDS_TABLE,
  ]);
  const indexes = await dataSource.query(
    `SELECT il.name, il."unique", il.origin, group_concat(ii.name, ',') AS columns
     FROM pragma_index_list(?) AS il, pragma_index_info(il.name) AS ii
     GROUP BY il.name ORDER BY il.name`,
    [IDEMPOTENCY_RECORDS_TABLE],
  );
  return { columns, indexes };
}

describe.each(DRIVERS.map((options) => [options.type, options] as const))('the SQLite table on %s', (_type, driver) => {
  const opened: DataSource[] = [];
  /** A fresh database that knows the entity and the migration, its table made by neither yet unless `synchronize`. */
  const open = async (options: { synchronize?: boolean; entities?: boolean } = {}) => {
    const { entities = true, ...rest } = options;
    const dataSource = new DataSource({
      ...driver,
      entities: entities ? [SqliteIdempotencyRecord] : [],
      migrations: [CreateIdempotencyRecords],
      ...rest,
    } as DataSourceOptions);
    opened.push(await dataSource.initialize());
    return dataSource;
  };
  const pendingChanges = async (dataSource: DataSource) =>
    (await dataSource.driver.createSchemaBuilder().log()).upQueries.map((query) => query.query);

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((dataSource) => dataSource.destroy()));
  });

  it('CreateIdempotencyRecords builds what synchronize builds: the schema builder finds nothing to change after it', async () => {
    const migrated = await open();
    expect(await pendingChanges(migrated)).toEqual([
      expect.stringMatching(/^CREATE TABLE "idempotency_records"/),
      expect.stringMatching(/^CREATE INDEX "IDX_idempotency_records_expires_at"/),
    ]);
    expect((await migrated.runMigrations()).map((migration) => migration.name)).toEqual([new CreateIdempotencyRecords().name]);
    expect(await pendingChanges(migrated)).toEqual([]);

    const synchronized = await open({ synchronize: true });
    const fromMigration = await describeTable(migrated);
    expect(fromMigration.columns).toHaveLength(13);
    expect(fromMigration.indexes).toEqual([
      { name: 'IDX_idempotency_records_expires_at', unique: 0, origin: 'c', columns: 'expires_at' },
      { name: 'sqlite_autoindex_idempotency_records_1', unique: 1, origin: 'pk', columns: 'scope,principal,key' },
    ]);
    expect(fromMigration).toEqual(await describeTable(synchronized));
  });

  it('keeps the table and its rows through a second synchronize, which has nothing to do', async () => {
    const dataSource = await open({ synchronize: true });
    await dataSource.query(
      `INSERT INTO idempotency_records (scope, principal, key, fingerprint, status, token, expires_at)
       VALUES ('s', '', 'k', '', 'processing', 't', '2000-01-01 00:00:00.000')`,
    );
    const before = await dataSource.query(`SELECT type, name, sql FROM sqlite_master ORDER BY name`);
    expect(await pendingChanges(dataSource)).toEqual([]);
    await dataSource.synchronize();
    expect(await dataSource.query(`SELECT type, name, sql FROM sqlite_master ORDER BY name`)).toEqual(before);
    expect(await dataSource.query(`SELECT key FROM idempotency_records`)).toEqual([{ key: 'k' }]);
  });

  it('drops the table when the migration is reverted', async () => {
    const dataSource = await open({ entities: false });
    await dataSource.runMigrations();
    expect((await describeTable(dataSource)).columns).toHaveLength(13);
    await dataSource.undoLastMigration();
    expect(await describeTable(dataSource)).toEqual({ columns: [], indexes: [] });
  });

  it('verify() names the migration and SqliteIdempotencyRecord when the table is missing, and passes once it exists', async () => {
    const dataSource = await open({ entities: false });
    const store = new TypeOrmIdempotencyStore(dataSource);
    const failure = store.verify();
    await expect(failure).rejects.toThrow(IdempotencyConfigurationError);
    await expect(failure).rejects.toThrow(/"idempotency_records" does not exist/);
    await expect(failure).rejects.toThrow(/CreateIdempotencyRecords migration/);
    await expect(failure).rejects.toThrow(/entities: \[SqliteIdempotencyRecord\]/);
    await expect(failure).rejects.toThrow(/IdempotencyModule\.forRoot\(\{ entity: SqliteIdempotencyRecord \}\)/);

    await dataSource.runMigrations();
    await expect(new TypeOrmIdempotencyStore(dataSource).verify()).resolves.toBeUndefined();
  });
});
