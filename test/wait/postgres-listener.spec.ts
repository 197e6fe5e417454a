import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import pg from 'pg';
import { IdempotencyModule, IdempotencyRecord, IdempotencyStore } from '../../lib/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('the PostgreSQL listening connection of wait mode', () => {
  let database: TestDatabase;
  let observer: pg.Pool;

  beforeAll(async () => {
    database = await createTestDatabase();
    observer = new pg.Pool({ connectionString: database.url, max: 1 });
  });

  afterAll(async () => {
    await observer?.end();
    await database?.drop();
  });

  /** Connections of the test database that LISTEN for the store (by their application_name). */
  const listeners = async () =>
    (
      await observer.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'nestjs-idempotency listener'",
      )
    ).rows[0].n as number;

  it('is one per process whatever the number of waiters, opened by the first wait and closed at shutdown', async () => {
    const app: TestingModule = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: database.url, entities: [IdempotencyRecord], synchronize: true }),
        IdempotencyModule.forRoot({ wait: 1000 }),
      ],
    }).compile();
    app.useLogger(false);
    await app.init();
    const store = app.get<IdempotencyStore>(IdempotencyStore);
    expect(await listeners()).toBe(0);
    const watches = await Promise.all(Array.from({ length: 20 }, (_, i) => store.watch!({ scope: 's', principal: '', key: `k${i}` })));
    expect(await listeners()).toBe(1);
    for (const watch of watches) watch.close();
    await app.close();
    expect(await listeners()).toBe(0);
  });
});
