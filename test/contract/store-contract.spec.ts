import { afterAll, beforeAll, describe } from '@jest/globals';
import { DataSource } from 'typeorm';
import { IdempotencyRecord, InMemoryIdempotencyStore, TypeOrmIdempotencyStore } from '../../lib/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('InMemoryIdempotencyStore', () => new InMemoryIdempotencyStore());

describe('TypeOrmIdempotencyStore on PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = new DataSource({ type: 'postgres', url: database.url, entities: [IdempotencyRecord], synchronize: true });
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  describeStoreContract('TypeOrmIdempotencyStore', async () => {
    await dataSource.query('TRUNCATE idempotency_records');
    return new TypeOrmIdempotencyStore(dataSource);
  });

  describeStoreContract('TypeOrmIdempotencyStore without prepared statements', async () => {
    await dataSource.query('TRUNCATE idempotency_records');
    return new TypeOrmIdempotencyStore(dataSource, { preparedStatements: false });
  });
});
