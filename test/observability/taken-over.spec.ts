import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { IdempotencyRecord, InMemoryIdempotencyStore, TypeOrmIdempotencyStore, type IdempotencyStore } from '../../lib/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const LONG = 60_000;
let keySequence = 0;
const newId = () => ({ scope: 'taken-over', principal: '', key: `k-${process.pid}-${++keySequence}` });
/** A claim with a fresh token; `lockTimeout` 0 leaves a lease that has already run out (a crashed owner). */
const claimOf = (id: ReturnType<typeof newId>, lockTimeout = LONG) => ({ ...id, fingerprint: '', token: randomUUID(), lockTimeout });

/** `ClaimResult.takenOver`, on the stores that report it (what the `lease-taken-over` event reads). */
describe.each([
  ['in-memory', async () => ({ store: new InMemoryIdempotencyStore() as IdempotencyStore, close: async () => undefined })],
  [
    'TypeORM on PostgreSQL',
    async () => {
      const database: TestDatabase = await createTestDatabase();
      const dataSource = new DataSource({ type: 'postgres', url: database.url, entities: [IdempotencyRecord], synchronize: true, logging: false });
      await dataSource.initialize();
      const store = new TypeOrmIdempotencyStore(dataSource);
      return {
        store: store as IdempotencyStore,
        close: async () => {
          await store.onApplicationShutdown();
          await dataSource.destroy();
          await database.drop();
        },
      };
    },
  ],
])('ClaimResult.takenOver (%s)', (_name, open) => {
  let store: IdempotencyStore;
  let close: () => Promise<void>;

  beforeAll(async () => ({ store, close } = await open()));
  afterAll(() => close?.());

  it('is absent when the claim inserted the record', async () => {
    expect(await store.claim(claimOf(newId()))).toEqual({ claimed: true });
  });

  it('is true when the claim took over a record in flight whose lease had run out', async () => {
    const id = newId();
    await store.claim(claimOf(id, 0));
    expect(await store.claim(claimOf(id))).toEqual({ claimed: true, takenOver: true });
  });

  it('is absent when the claim took over a completed record past its ttl', async () => {
    const id = newId();
    const first = claimOf(id);
    await store.claim(first);
    expect(await store.complete(id, first.token, { status: 200, headers: {}, body: Buffer.from('{}') }, 0)).toBe(true);
    expect(await store.claim(claimOf(id))).toEqual({ claimed: true });
  });
});
