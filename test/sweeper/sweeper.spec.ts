import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  IdempotencyModule,
  IdempotencyRecord,
  IdempotencyService,
  IdempotencyStore,
  IdempotencySweeper,
  SWEEPER_SCOPE,
} from '../../lib/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const INTERVAL = 60_000;

async function bootInstance(url: string, sweepInterval?: number): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ type: 'postgres', url, entities: [IdempotencyRecord], synchronize: true }),
      IdempotencyModule.forRoot({ sweepInterval }),
    ],
  }).compile();
  return moduleRef.init();
}

/** Inserts `count` records in `scope`, expired (`expired`) or live for an hour. */
async function insertRecords(dataSource: DataSource, scope: string, count: number, expired: boolean) {
  await dataSource.query(
    `INSERT INTO idempotency_records (scope, principal, key, fingerprint, status, token, expires_at)
     SELECT $1, '', 'k' || n, '', 'completed', gen_random_uuid(), now() + $2::interval
     FROM generate_series(1, $3) AS n`,
    [scope, expired ? '-1 minute' : '1 hour', count],
  );
}

const countScope = async (dataSource: DataSource, scope: string) =>
  (await dataSource.query('SELECT count(*)::int AS n FROM idempotency_records WHERE scope = $1', [scope]))[0].n;

describe('purging expired records', () => {
  let database: TestDatabase;
  let instances: INestApplicationContext[];
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    instances = [];
    for (let i = 0; i < 3; i++) instances.push(await bootInstance(database.url));
    dataSource = instances[0].get(DataSource);
  });

  afterAll(async () => {
    await Promise.all(instances?.map((instance) => instance.close()) ?? []);
    await database?.drop();
  });

  it('purgeExpired() removes only expired records, one batch per statement', async () => {
    await insertRecords(dataSource, 'purge-expired', 25, true);
    await insertRecords(dataSource, 'purge-live', 5, false);
    const store = instances[0].get<IdempotencyStore>(IdempotencyStore);
    const purge = jest.spyOn(store, 'purgeExpired');

    const deleted = await instances[0].get(IdempotencyService).purgeExpired(10);

    expect(deleted).toBe(25);
    expect(purge.mock.calls).toEqual([[10], [10], [10]]);
    expect(await countScope(dataSource, 'purge-expired')).toBe(0);
    expect(await countScope(dataSource, 'purge-live')).toBe(5);
    purge.mockRestore();
  });

  it('purges once per interval when three instances sweep the same intervals at once', async () => {
    const intervals = 5;
    const ran: number[] = [];
    for (let slot = 0; slot < intervals; slot++) {
      await insertRecords(dataSource, `sweep-${slot}`, 3, true);
      const now = (1_000_000 + slot) * INTERVAL;
      const results = await Promise.all(instances.map((instance) => instance.get(IdempotencySweeper).sweep(INTERVAL, now)));
      const sweeps = results.filter((result) => result !== null);
      expect(sweeps).toHaveLength(1);
      ran.push(sweeps[0] as number);
      expect(await countScope(dataSource, `sweep-${slot}`)).toBe(0);
    }
    expect(ran.every((deleted) => deleted >= 3)).toBe(true);
    expect(await countScope(dataSource, SWEEPER_SCOPE)).toBe(intervals);
  });

  it('does not sweep an interval a second time', async () => {
    const now = 2_000_000 * INTERVAL;
    const sweeper = instances[1].get(IdempotencySweeper);
    expect(await sweeper.sweep(INTERVAL, now)).not.toBeNull();
    await insertRecords(dataSource, 'sweep-again', 2, true);
    expect(await instances[2].get(IdempotencySweeper).sweep(INTERVAL, now + 1)).toBeNull();
    expect(await countScope(dataSource, 'sweep-again')).toBe(2);
    expect(await sweeper.sweep(INTERVAL, now + INTERVAL)).toBe(2);
  });

  it('sweeps on its own every sweepInterval when the option is set', async () => {
    await insertRecords(dataSource, 'sweep-timer', 4, true);
    const timed = await bootInstance(database.url, 50);
    try {
      const sweeps = jest.spyOn(timed.get(IdempotencySweeper), 'sweep');
      for (let polls = 0; polls < 200 && (await countScope(dataSource, 'sweep-timer')) > 0; polls++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(await countScope(dataSource, 'sweep-timer')).toBe(0);
      expect(sweeps).toHaveBeenCalledWith(50);
    } finally {
      await timed.close();
    }
  });
});
