import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { CreateIdempotencyRecords, IDEMPOTENCY_RECORDS_TABLE, IdempotencyRecord } from '../../lib/index.js';
import { createTestDatabase } from '../support/database.js';

/**
 * The table as PostgreSQL sees it: columns, indexes and constraints, in a stable order; all empty when absent.
 * NOT NULL constraints (listed in pg_constraint since PostgreSQL 18) are left to `is_nullable`.
 */
async function describeTable(dataSource: DataSource) {
  const columns = await dataSource.query(
    `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
     FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY column_name`,
    [IDEMPOTENCY_RECORDS_TABLE],
  );
  const indexes = await dataSource.query(
    `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1 ORDER BY indexname`,
    [IDEMPOTENCY_RECORDS_TABLE],
  );
  const constraints = await dataSource.query(
    `SELECT conname, contype, pg_get_constraintdef(oid) AS definition
     FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype <> 'n' ORDER BY conname`,
    [IDEMPOTENCY_RECORDS_TABLE],
  );
  return { columns, indexes, constraints };
}

/** An empty database of its own, with a DataSource that knows the entity and the migration. */
async function emptyDatabase(options: { synchronize?: boolean } = {}) {
  const database = await createTestDatabase();
  const dataSource = new DataSource({
    type: 'postgres',
    url: database.url,
    entities: [IdempotencyRecord],
    migrations: [CreateIdempotencyRecords],
    ...options,
  });
  await dataSource.initialize();
  return { database, dataSource, close: async () => (await dataSource.destroy(), await database.drop()) };
}

describe('CreateIdempotencyRecords migration', () => {
  let migrated: Awaited<ReturnType<typeof emptyDatabase>>;
  let synchronized: Awaited<ReturnType<typeof emptyDatabase>>;
  let before: Awaited<ReturnType<typeof describeTable>>;
  let ran: string[];

  beforeAll(async () => {
    [migrated, synchronized] = await Promise.all([emptyDatabase(), emptyDatabase({ synchronize: true })]);
    before = await describeTable(migrated.dataSource);
    ran = (await migrated.dataSource.runMigrations()).map((migration) => migration.name);
  });

  afterAll(async () => {
    await Promise.all([migrated?.close(), synchronized?.close()]);
  });

  it('creates the table with its primary key and expires_at index on an empty database', async () => {
    expect(before).toEqual({ columns: [], indexes: [], constraints: [] });
    expect(ran).toEqual([new CreateIdempotencyRecords().name]);
    const { columns, indexes, constraints } = await describeTable(migrated.dataSource);
    expect(columns.map((column: { column_name: string }) => column.column_name)).toEqual([
      'completed_at', 'created_at', 'expires_at', 'fingerprint', 'key', 'locked_until', 'principal',
      'response_body', 'response_headers', 'response_status', 'scope', 'status', 'token',
    ]);
    expect(constraints).toEqual([
      { conname: 'PK_idempotency_records', contype: 'p', definition: 'PRIMARY KEY (scope, principal, key)' },
    ]);
    expect(indexes.map((index: { indexdef: string }) => index.indexdef)).toContainEqual(
      expect.stringMatching(/^CREATE INDEX "IDX_idempotency_records_expires_at" .* \(expires_at\)$/),
    );
  });

  it('creates the same columns (type, nullability, default), indexes and constraints as synchronize: true', async () => {
    const fromMigration = await describeTable(migrated.dataSource);
    const fromEntity = await describeTable(synchronized.dataSource);
    expect(fromMigration.columns).toHaveLength(13);
    expect(fromMigration).toEqual(fromEntity);
  });

  it('leaves nothing for synchronize to change after the migration', async () => {
    const { upQueries } = await migrated.dataSource.driver.createSchemaBuilder().log();
    expect(upQueries.map((query) => query.query)).toEqual([]);
  });

  it('drops the table when reverted', async () => {
    const reverted = await emptyDatabase();
    try {
      await reverted.dataSource.runMigrations();
      expect((await describeTable(reverted.dataSource)).columns).toHaveLength(13);
      await reverted.dataSource.undoLastMigration();
      expect(await describeTable(reverted.dataSource)).toEqual({ columns: [], indexes: [], constraints: [] });
    } finally {
      await reverted.close();
    }
  });
});
