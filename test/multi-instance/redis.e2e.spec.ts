import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { IDEMPOTENCY_RECORDS_TABLE } from '../../lib/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connectRedis, deleteKeys, redisDescribe, REDIS_LABEL, REDIS_URL, uniquePrefix } from '../support/redis.js';
import { Cluster } from './support/cluster.js';
import type { HttpResult } from './support/http.js';
import { RedisRecords, type RedisRecordView } from './support/redis-records.js';
import { SharedDatabase } from './support/shared-database.js';
import {
  checkOneKey,
  checkStorm,
  effectOf,
  forceTakeover,
  isOriginal,
  isReplayOf,
  isRetryableProblem,
  retryStorm,
  retryWhileInFlight,
  until,
} from './support/traffic.js';

// DESIGN.md §8: a shared store passes the multi-process storm. The storms
// (RELIABILITY.md 1, 2), the slow handler (4), fencing (5) and the crashed
// instance (3) over 3 processes whose RedisIdempotencyStore shares one Redis;
// side effects are still counted in PostgreSQL. The lease tests follow
// leases.e2e.spec.ts, reading the record's hash and its key's PTTL where that
// file reads the row. Without a Redis server a local run leaves this file out
// with a "not run" line (jest.config.js); under CI (or run anyway) it fails here.
const describeWithRedis = await redisDescribe();

const INSTANCES = 3;
const effects = { path: '/effects' };
const gated = { ...effects, headers: { 'X-Gate': '1' } };
const newKey = (name: string) => `${name}-${randomUUID()}`;

describeWithRedis(`multi-instance: RedisIdempotencyStore (3 processes, one Redis at ${REDIS_LABEL})`, () => {
  const prefix = uniquePrefix(); // this run's keys only: deleted afterwards
  let database: TestDatabase;
  let shared: SharedDatabase;
  let redis: Redis;
  let records: RedisRecords;
  const startCluster = (lockTimeout: number) =>
    Cluster.start(INSTANCES, database.url, lockTimeout, RedisRecords.workerEnv(REDIS_URL, prefix));
  /** Records of the PostgreSQL store: none, since every instance uses the Redis store. */
  const postgresRecords = async () =>
    (await shared.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${IDEMPOTENCY_RECORDS_TABLE}`))[0].n;

  beforeAll(async () => {
    database = await createTestDatabase();
    shared = await SharedDatabase.prepare(database.url); // side_effects (and an idempotency table left empty)
    redis = connectRedis();
    records = new RedisRecords(redis, prefix);
  }, 60_000);

  afterAll(async () => {
    if (redis) await deleteKeys(redis, prefix);
    redis?.disconnect();
    await shared?.close();
    await database?.drop();
  });

  describe('storms (lockTimeout 10 s: no lease may end, these are about races)', () => {
    let cluster: Cluster;

    beforeAll(async () => {
      cluster = await startCluster(10_000);
    }, 60_000);

    afterAll(async () => {
      await cluster?.stop();
    });

    it('runs the side effect once for 300 concurrent requests with one key; the rest get 409 or a byte-identical replay', async () => {
      const key = newKey('one');
      // Wave 1: 150 requests at once, spread over the instances, race to claim the key. The winner's handler
      // waits at its barrier, so every other request meets the key in flight.
      const owner = Promise.race(cluster.workers.map((worker) => worker.arrived(key).then(() => worker)));
      const held: HttpResult[] = [];
      const wave1 = Array.from({ length: 150 }, (_, i) =>
        cluster.workers[i % INSTANCES].request({ ...gated, key }).then((result) => (held.push(result), result)),
      );
      const holder = await owner;
      await until(() => held.length === 149, 'every request but the held one to be answered', 20_000);
      const conflictsWhileHeld = held.filter((result) => isRetryableProblem(result, 409)).length;

      // Wave 2: 150 more requests leave, and the handler is let go at once, so they race its completion: some
      // still meet it in flight, the rest replay it. (Not gated: a second run would show as a second
      // `entered` row, not hang at a barrier.)
      const wave2 = Array.from({ length: 150 }, (_, i) => cluster.workers[i % INSTANCES].request({ ...effects, key }));
      holder.release(key);
      const results = await Promise.all([...wave1, ...wave2]);

      expect(conflictsWhileHeld).toBe(149); // while it ran: 409 + Retry-After, every one
      const check = checkOneKey(results);
      expect(check).toEqual({ original: expect.anything() });
      const { original } = check as { original: HttpResult };
      expect(results.filter(isOriginal)).toEqual([original]);
      expect(await shared.count('entered', key)).toBe(1);
      expect(await shared.count('effect', key)).toBe(1);
      expect(isReplayOf(await cluster.any().request({ ...effects, key }), original)).toBe(true);
      const record = await records.record(key);
      expect(record).toMatchObject({ state: 'completed', body: original.body }); // the bytes on the wire
      expect(record!.pttl).toBeGreaterThan(0); // expires by itself (the ttl, 24 h by default)
      expect(await records.processing()).toEqual([]); // nothing stuck
      expect(await postgresRecords()).toBe(0); // it was the Redis store that held the key
      expect(cluster.logs()).toEqual([]);
    });

    it('runs each of 200 keys once when 2,000 requests retry them from random instances at random moments', async () => {
      const keys = Array.from({ length: 200 }, (_, i) => newKey(`many-${i}`));
      const answers = await retryStorm(cluster, keys, { perKey: 10, spreadMs: 1_500, maxDelayMs: 30 });

      expect(checkStorm(answers)).toEqual([]);
      const entered = await shared.countByKey('entered', keys);
      const effectRows = await shared.countByKey('effect', keys);
      expect(keys.filter((key) => entered.get(key) !== 1 || effectRows.get(key) !== 1)).toEqual([]);
      // Each key's record is completed and holds the bytes its original answer sent.
      const originals = new Map(answers.filter(({ result }) => isOriginal(result)).map((a) => [a.key, a.result]));
      const stored = await Promise.all(keys.map(async (key) => ({ key, record: await records.record(key) })));
      const wrong = stored.filter(
        ({ key, record }) => record?.state !== 'completed' || !record.body?.equals(originals.get(key)!.body),
      );
      expect(wrong.map(({ key, record }) => `${key}: ${record?.state ?? 'no record'}`)).toEqual([]);
      expect(await records.processing(keys)).toEqual([]); // nothing stuck: every hash under the prefix, read
      expect(await postgresRecords()).toBe(0);
      expect(cluster.logs()).toEqual([]);
    });
  });

  describe("leases (lockTimeout 1 s: the lease is the record key's TTL)", () => {
    const LOCK_TIMEOUT_MS = 1_000;
    let cluster: Cluster;

    beforeAll(async () => {
      cluster = await startCluster(LOCK_TIMEOUT_MS);
    }, 60_000);

    afterAll(async () => {
      await cluster?.stop();
    });

    it('never runs a handler that takes 3x lockTimeout a second time: its heartbeat renews the key TTL while retries hit other instances', async () => {
      const [a, b, c] = cluster.workers;
      const key = newKey('slow');
      const first = a.request({ ...gated, key });
      await a.arrived(key);
      const since = Date.now(); // no earlier than the claim
      const claimed = await records.record(key);
      expect(claimed).toMatchObject({ state: 'processing' });

      // The lease as Redis holds it, read after each retry. `endsAfterClaimMs` is when the key would expire,
      // counted from `since`: a lower bound of how long after the claim the lease ends (`at` is taken before
      // the PTTL is read, and the claim came before `since`).
      const lease = async () => {
        const at = Date.now();
        const record = await records.record(key);
        const pttl = record?.pttl ?? -2;
        return {
          readAtMs: at - since,
          state: record?.state ?? 'no record',
          token: record?.token,
          pttl,
          endsAfterClaimMs: at + pttl - since,
        };
      };
      const retries: HttpResult[] = [];
      const leases: Awaited<ReturnType<typeof lease>>[] = [];
      while (Date.now() - since < 3.3 * LOCK_TIMEOUT_MS) {
        retries.push(await (retries.length % 2 ? b : c).request({ ...effects, key }));
        leases.push(await lease());
        await sleep(LOCK_TIMEOUT_MS / 4);
      }
      leases.push(await lease());
      a.release(key);
      const original = await first;

      // Processing with the claim's token at every read, and a TTL that never ran out nor exceeded the lease.
      const lapses = leases.filter(
        ({ state, token, pttl }) =>
          state !== 'processing' || token !== claimed!.token || pttl <= 0 || pttl > LOCK_TIMEOUT_MS,
      );
      expect(lapses).toEqual([]);
      // Extended, not just claimed: a TTL read late in the hold ends more than 3x lockTimeout after the claim.
      expect(Math.max(...leases.map(({ endsAfterClaimMs }) => endsAfterClaimMs))).toBeGreaterThan(3 * LOCK_TIMEOUT_MS);
      const notConflicts = retries.filter((retry) => !isRetryableProblem(retry, 409));
      const described = notConflicts.map(({ status, headers, body }) =>
        [status, headers['idempotent-replayed'] ? 'replayed' : 'ran', body.toString()].join(' '),
      );
      expect(described).toEqual([]);
      expect(isOriginal(original)).toBe(true);
      expect(isReplayOf(await b.request({ ...effects, key }), original)).toBe(true);
      expect(await shared.count('entered', key)).toBe(1);
      expect(await shared.count('effect', key)).toBe(1);
      const record = await records.record(key);
      expect(record).toMatchObject({ state: 'completed', token: claimed!.token, body: original.body });
      expect(record!.pttl).toBeGreaterThan(LOCK_TIMEOUT_MS); // now the ttl's, no longer the lease's
      expect(cluster.logs().filter((log) => log.includes(key))).toEqual([]); // no lease lost, no write failed
    });

    describe.each([
      ['complete (overwrite)', 'return'],
      ['release (delete)', 'throw'],
    ] as const)('fencing: a request whose lease was taken over cannot %s', (_, action) => {
      it("the new owner's record", async () => {
        const [a, b, c] = cluster.workers;
        const key = newKey(`fenced-${action}`);
        const stale = a.request({ ...gated, key });
        await a.arrived(key);
        const staleToken = (await records.record(key))!.token;

        const { answer: owner } = await forceTakeover(b, key, (id) => records.endLease(id)); // A's key's TTL set to 1 ms
        const claimedByOwner = await records.record(key);
        expect(claimedByOwner).toMatchObject({ state: 'processing' });
        const ownerToken = claimedByOwner!.token;
        expect(ownerToken).not.toBe(staleToken);

        // A's handler ends now: its complete() or release() must leave B's record alone.
        a.release(key, action);
        const staleAnswer = await stale;
        if (action === 'return') {
          expect(isOriginal(staleAnswer)).toBe(true); // A's caller still gets A's own answer
          expect(effectOf(staleAnswer).worker).toBe(a.name);
        } else {
          expect(staleAnswer.status).toBe(500);
        }
        const write = action === 'return' ? 'complete' : 'release';
        const loggedTakeover = () =>
          a.logs.some(
            (log) =>
              log.level === 'warn' &&
              log.message.includes(key) &&
              log.message.includes(`Could not ${write}`) &&
              /taken over/.test(log.message),
          );
        // A's write is done once it logged the takeover (fenced) or once B's record changed (not fenced).
        const isOwners = (record?: RedisRecordView) =>
          record?.state === 'processing' && record.token === ownerToken && record.body === null;
        await until(async () => loggedTakeover() || !isOwners(await records.record(key)), `the stale ${write}`);
        const afterStale = await records.record(key);
        // (The body as text, so that a failure shows whose response was written.)
        expect(afterStale && { ...afterStale, body: afterStale.body?.toString() ?? null }).toMatchObject({
          state: 'processing',
          token: ownerToken,
          body: null,
        });
        expect(loggedTakeover()).toBe(true);
        expect(afterStale!.pttl).toBeGreaterThan(0); // B's lease, still renewed by B's heartbeat
        expect(afterStale!.pttl).toBeLessThanOrEqual(LOCK_TIMEOUT_MS);

        b.release(key);
        const ownerAnswer = await owner;
        expect(isOriginal(ownerAnswer)).toBe(true);
        expect(effectOf(ownerAnswer).worker).toBe(b.name);
        const completed = await records.record(key);
        expect(completed).toMatchObject({ state: 'completed', token: ownerToken, body: ownerAnswer.body });
        expect(completed!.pttl).toBeGreaterThan(LOCK_TIMEOUT_MS);
        const replay = await c.request({ ...effects, key });
        expect(isReplayOf(replay, ownerAnswer)).toBe(true);
        expect(await shared.count('entered', key)).toBe(2); // a takeover means the handler ran twice
        expect(await shared.count('effect', key)).toBe(action === 'return' ? 2 : 1);
        expect(await postgresRecords()).toBe(0);
      });
    });

    // Last: it kills an instance.
    it('recovers a key whose instance was killed mid-handler: 409 while the lease lives, then one run that completes', async () => {
      const [a, b, c] = cluster.workers;
      const key = newKey('crash');
      const first = a.request({ ...gated, key }).then(
        () => 'answered',
        () => 'no answer',
      );
      await a.arrived(key);
      const crashed = await records.record(key);
      expect(crashed).toMatchObject({ state: 'processing' });
      expect(crashed!.pttl).toBeGreaterThan(0);
      expect(crashed!.pttl).toBeLessThanOrEqual(LOCK_TIMEOUT_MS); // the lease is the record's TTL
      await a.crash(); // kill -9
      expect(await first).toBe('no answer');

      expect(isRetryableProblem(await b.request({ ...effects, key }), 409)).toBe(true);
      const { answer: retry } = await retryWhileInFlight((i) => (i % 2 ? b : c).request({ ...effects, key }), 100);
      expect(isOriginal(retry)).toBe(true);
      expect(isReplayOf(await c.request({ ...effects, key }), retry)).toBe(true);
      expect(await shared.count('entered', key)).toBe(2); // the crashed run and the retry
      expect(await shared.count('effect', key)).toBe(1);
      const record = await records.record(key);
      expect(record).toMatchObject({ state: 'completed', body: retry.body });
      expect(record!.token).not.toBe(crashed!.token); // taken over by a claim of its own
      expect(await records.processing()).toEqual([]); // nothing stuck
      expect(await postgresRecords()).toBe(0);
    });
  });
});
