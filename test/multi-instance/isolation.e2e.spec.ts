import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { ClaimBarrier } from './support/claim-barrier.js';
import { Cluster } from './support/cluster.js';
import type { HttpResult } from './support/http.js';
import { SharedDatabase } from './support/shared-database.js';
import { checkOneKey, isRetryableProblem } from './support/traffic.js';

// DESIGN.md §6, "Errors are classified": on a database whose default isolation
// is REPEATABLE READ, a claim (`INSERT … ON CONFLICT`) that meets a concurrent
// claim's insert it cannot see fails with a serialization failure (SQLSTATE
// 40001). That is a lost race to retry, not an outage: never a 503, and never
// a reason for a `failOpen` route to run its handler unprotected.
//
// Concurrent claims of one key meet only when they overlap in the database,
// which on a busy machine is luck. So the claims of each key are gathered at a
// barrier in the database (support/claim-barrier.ts: they have taken their
// snapshots and wait before inserting) and released together.
const INSTANCES = 3;
const LOCK_TIMEOUT_MS = 10_000; // no lease may end here: this is about concurrent claims
const KEYS = 20;
/** Concurrent requests per key, spread over the instances (each has pg's default pool of 10). */
const REQUESTS_PER_KEY = 20;

describe('multi-instance: default_transaction_isolation = repeatable read (3 processes, one PostgreSQL)', () => {
  let database: TestDatabase;
  let shared: SharedDatabase;
  let barrier: ClaimBarrier;
  let cluster: Cluster;

  beforeAll(async () => {
    database = await createTestDatabase();
    // Before any instance connects, as a DBA would have configured the database.
    shared = await SharedDatabase.prepare(database.url, { defaultIsolation: 'repeatable read' });
    barrier = await ClaimBarrier.install(database.url);
    cluster = await Cluster.start(INSTANCES, database.url, LOCK_TIMEOUT_MS);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await barrier?.close();
    await shared?.close();
    await database?.drop();
  });

  /**
   * For each of `KEYS` new keys in turn: sends `REQUESTS_PER_KEY` requests to
   * `path` over the instances, lets their claims meet at the barrier, and
   * collects every answer. Returns the answers by key, and how many claims met.
   */
  const concurrentClaims = async (path: string) => {
    const answers = new Map<string, HttpResult[]>();
    const met: number[] = [];
    for (let k = 0; k < KEYS; k++) {
      const key = `${path.slice(1)}-${k}-${randomUUID()}`;
      await barrier.hold();
      const requests = Promise.all(
        Array.from({ length: REQUESTS_PER_KEY }, (_, i) => cluster.workers[i % INSTANCES].request({ path, key })),
      );
      try {
        met.push(await barrier.filled(REQUESTS_PER_KEY));
      } finally {
        await barrier.release();
      }
      answers.set(key, await requests);
    }
    return { answers, met };
  };

  /** Per key: exactly one original, every other answer a 409 or a byte-identical replay of it. */
  const checkEveryKey = (answers: Map<string, HttpResult[]>) =>
    [...answers].flatMap(([key, results]) => {
      const check = checkOneKey(results);
      return 'error' in check ? [`${key}: ${check.error}`] : [];
    });

  it('the instances use a database whose default isolation is REPEATABLE READ', async () => {
    const rows = await shared.query<{ setting: string }>(
      `SELECT unnest(setconfig) AS setting FROM pg_db_role_setting
       WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND setrole = 0`,
    );
    expect(rows).toEqual([{ setting: 'default_transaction_isolation=repeatable read' }]);
  });

  it(`answers no 503 and runs each key once: ${KEYS} keys x ${REQUESTS_PER_KEY} concurrent claims on a protected route`, async () => {
    const logged = cluster.logs().length;
    const { answers, met } = await concurrentClaims('/effects');
    const keys = [...answers.keys()];

    expect(met.filter((n) => n < 2)).toEqual([]); // the claims of each key did meet
    const all = [...answers.values()].flat();
    const unavailable = all.filter((result) => result.status === 503);
    expect(`${unavailable.length} of ${all.length} answers 503`).toBe(`0 of ${all.length} answers 503`);
    expect(checkEveryKey(answers)).toEqual([]);
    const effects = await shared.countByKey('effect', keys);
    expect(keys.filter((key) => effects.get(key) !== 1)).toEqual([]);
    expect(await shared.processing(keys)).toEqual([]);
    expect(cluster.logs().slice(logged).filter((log) => /unreachable|unprotected/i.test(log))).toEqual([]);
  });

  it(`runs each key once on a failOpen route: ${KEYS} keys x ${REQUESTS_PER_KEY} concurrent claims`, async () => {
    const logged = cluster.logs().length;
    const { answers, met } = await concurrentClaims('/fail-open');
    const keys = [...answers.keys()];

    expect(met.filter((n) => n < 2)).toEqual([]);
    const runs = await cluster.invocationsByKey('fail-open');
    const total = keys.reduce((sum, key) => sum + (runs.get(key) ?? 0), 0);
    expect(`${total} handler runs for ${KEYS} keys`).toBe(`${KEYS} handler runs for ${KEYS} keys`);
    expect(keys.filter((key) => runs.get(key) !== 1)).toEqual([]);
    expect(checkEveryKey(answers)).toEqual([]);
    const all = [...answers.values()].flat();
    expect(all.filter((result) => isRetryableProblem(result, 503))).toEqual([]);
    expect(cluster.logs().slice(logged).filter((log) => /unreachable|unprotected/i.test(log))).toEqual([]);
  });
});
