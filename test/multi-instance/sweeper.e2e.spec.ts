import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { Cluster } from './support/cluster.js';
import { SharedDatabase } from './support/shared-database.js';
import type { SweepEntry } from './worker/sweep-log.js';

// Issue acceptance 9: with the sweeper on in 3 processes, each interval purges once.
const SWEEP_INTERVAL_MS = 200;
const INTERVALS_TO_WATCH = 8;

describe('multi-instance: the interval sweeper (3 processes, one PostgreSQL)', () => {
  let database: TestDatabase;
  let shared: SharedDatabase;
  let cluster: Cluster;

  const sweepsOf = async (): Promise<SweepEntry[][]> =>
    Promise.all(cluster.workers.map(async (worker) => (await worker.request({ method: 'GET', path: '/sweeps' })).json<SweepEntry[]>()));

  beforeAll(async () => {
    database = await createTestDatabase();
    shared = await SharedDatabase.prepare(database.url);
    await shared.query(
      `INSERT INTO idempotency_records (scope, principal, key, fingerprint, status, token, expires_at)
       SELECT 'expired', '', 'k' || n, '', 'completed', gen_random_uuid(), now() - interval '1 minute'
       FROM generate_series(1, 50) AS n`,
    );
    cluster = await Cluster.start(3, database.url, 1_000, { SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS) });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await shared?.close();
    await database?.drop();
  });

  it('purges each interval on exactly one instance, however many sweep it', async () => {
    let sweeps = await sweepsOf();
    for (let polls = 0; polls < 300 && sweeps.some((entries) => entries.length < INTERVALS_TO_WATCH); polls++) {
      await sleep(SWEEP_INTERVAL_MS / 2);
      sweeps = await sweepsOf();
    }
    expect(sweeps.map((entries) => entries.length >= INTERVALS_TO_WATCH)).toEqual([true, true, true]);

    const purgesPerSlot = new Map<number, number>();
    const visitsPerSlot = new Map<number, number>();
    for (const { slot, purged } of sweeps.flat()) {
      visitsPerSlot.set(slot, (visitsPerSlot.get(slot) ?? 0) + 1);
      if (purged !== null) purgesPerSlot.set(slot, (purgesPerSlot.get(slot) ?? 0) + 1);
    }
    for (const slot of visitsPerSlot.keys()) expect([slot, purgesPerSlot.get(slot)]).toEqual([slot, 1]);
    // The instances really competed: most intervals were swept by more than one of them.
    const contested = [...visitsPerSlot.values()].filter((visits) => visits > 1).length;
    expect(contested).toBeGreaterThanOrEqual(INTERVALS_TO_WATCH / 2);
    expect(await shared.query(`SELECT key FROM idempotency_records WHERE scope = 'expired'`)).toEqual([]);
  });
});
