import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { CreateIdempotencyRecords, IDEMPOTENCY_RECORDS_TABLE } from '../../lib/index.js';
import { createMysqlDatabase, mysqlDescribe, type MysqlTestDatabase } from '../support/mariadb.js';
import { openMysqlDataSource, type MysqlType } from '../support/mysql-stores.js';

const describeWithMysql = await mysqlDescribe();

/** The table as the server describes it (columns, types, character sets, checks, keys); `null` when absent. */
async function showCreateTable(dataSource: DataSource): Promise<string | null> {
  const [present] = await dataSource.query(
    'SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
    [IDEMPOTENCY_RECORDS_TABLE],
  );
  if (Number(present.n) === 0) return null;
  const [row] = await dataSource.query(`SHOW CREATE TABLE \`${IDEMPOTENCY_RECORDS_TABLE}\``);
  return row['Create Table'];
}

/** The statements `synchronize` would run now. */
async function pendingSchemaChanges(dataSource: DataSource): Promise<string[]> {
  return (await dataSource.driver.createSchemaBuilder().log()).upQueries.map((query) => query.query);
}

/** An empty database of its own, with a DataSource that knows the entity and the migration. */
async function emptyDatabase(type: MysqlType, options: { synchronize?: boolean } = {}) {
  const database: MysqlTestDatabase = await createMysqlDatabase();
  const dataSource = await openMysqlDataSource(database.url, type, { migrations: [CreateIdempotencyRecords], ...options });
  return { dataSource, close: async () => (await dataSource.destroy(), await database.drop()) };
}

describeWithMysql('CreateIdempotencyRecords migration on MariaDB', () => {
  let migrated: Awaited<ReturnType<typeof emptyDatabase>>;
  let synchronized: Awaited<ReturnType<typeof emptyDatabase>>;
  let before: string | null;

  beforeAll(async () => {
    [migrated, synchronized] = await Promise.all([emptyDatabase('mariadb'), emptyDatabase('mariadb', { synchronize: true })]);
    before = await showCreateTable(migrated.dataSource);
    await migrated.dataSource.runMigrations();
  });

  afterAll(async () => {
    await Promise.all([migrated?.close(), synchronized?.close()]);
  });

  it('creates the table with its VARBINARY primary key and expires_at index on an empty database', async () => {
    expect(before).toBeNull();
    const table = await showCreateTable(migrated.dataSource);
    expect(table).toContain('PRIMARY KEY (`scope`,`principal`,`key`)');
    expect(table).toContain('KEY `IDX_idempotency_records_expires_at` (`expires_at`)');
    expect(table).toContain('`key` varbinary(1024) NOT NULL');
  });

  it('creates exactly the table synchronize: true builds from MysqlIdempotencyRecord', async () => {
    expect(await showCreateTable(migrated.dataSource)).toBe(await showCreateTable(synchronized.dataSource));
  });

  it('leaves nothing for synchronize to change after the migration', async () => {
    await expect(pendingSchemaChanges(migrated.dataSource)).resolves.toEqual([]);
  });

  it('leaves nothing to change after a first synchronize (MariaDB reports JSON as LONGTEXT)', async () => {
    await expect(pendingSchemaChanges(synchronized.dataSource)).resolves.toEqual([]);
    const table = await showCreateTable(synchronized.dataSource);
    await synchronized.dataSource.synchronize();
    expect(await showCreateTable(synchronized.dataSource)).toBe(table);
  });

  it('drops the table when reverted', async () => {
    const reverted = await emptyDatabase('mariadb');
    try {
      await reverted.dataSource.runMigrations();
      expect(await showCreateTable(reverted.dataSource)).not.toBeNull();
      await reverted.dataSource.undoLastMigration();
      expect(await showCreateTable(reverted.dataSource)).toBeNull();
    } finally {
      await reverted.close();
    }
  });

  it('creates the same table through a DataSource of type mysql', async () => {
    const viaMysqlType = await emptyDatabase('mysql');
    try {
      await viaMysqlType.dataSource.runMigrations();
      expect(await showCreateTable(viaMysqlType.dataSource)).toBe(await showCreateTable(migrated.dataSource));
    } finally {
      await viaMysqlType.close();
    }
  });

  /**
   * TypeORM's `mysql` type reads a nullable column's default on MariaDB as
   * the text 'NULL', so it re-states nullable columns on every synchronize
   * (as it does for every entity of such an app): harmless, same definition.
   * It never drops a column of this table (a `json` column would be dropped
   * and re-added, losing the stored headers: hence LONGTEXT).
   */
  it("drops nothing on a second synchronize through type 'mysql' on MariaDB", async () => {
    const viaMysqlType = await emptyDatabase('mysql', { synchronize: true });
    try {
      const pending = await pendingSchemaChanges(viaMysqlType.dataSource);
      expect(pending.filter((query) => !/^ALTER TABLE `idempotency_records` CHANGE `(\w+)` `\1` \w+(\(\d+\))? NULL$/.test(query))).toEqual([]);
    } finally {
      await viaMysqlType.close();
    }
  });
});
