import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Cluster } from './cluster.js';
import type { HttpResult } from './http.js';
import { INSTANCES, type SharedStoreHarness } from './shared-store-harness.js';
import { checkOneKey, checkStorm, isOriginal, isReplayOf, isRetryableProblem, retryStorm, until } from './traffic.js';

const effects = { path: '/effects' };
const gated = { ...effects, headers: { 'X-Gate': '1' } };
const newKey = (name: string) => `${name}-${randomUUID()}`;

/**
 * The storms of a shared store (RELIABILITY.md 1, 2): many requests with one
 * key, and many keys retried at random, over {@link INSTANCES} instances.
 * lockTimeout is 10 s: no lease may end, these are about races.
 */
export function describeSharedStoreStorms(harness: () => SharedStoreHarness): void {
  describe('storms (lockTimeout 10 s: no lease may end, these are about races)', () => {
    let cluster: Cluster;

    beforeAll(async () => {
      cluster = await harness().startCluster(10_000);
    }, 60_000);

    afterAll(async () => {
      await cluster?.stop();
    });

    it('runs the side effect once for 300 concurrent requests with one key; the rest get 409 or a byte-identical replay', async () => {
      const { store, shared } = harness();
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
      const record = await store.record(key);
      expect(record).toMatchObject({ state: 'completed', body: original.body }); // the bytes on the wire
      expect(record!.endsInMs).toBeGreaterThan(0); // expires by itself (the ttl, 24 h by default)
      expect(await store.processing()).toEqual([]); // nothing stuck
      expect(await harness().postgresRecords()).toBe(0); // it was the store under test that held the key
      expect(cluster.logs()).toEqual([]);
    });

    it('runs each of 200 keys once when 2,000 requests retry them from random instances at random moments', async () => {
      const { store, shared } = harness();
      const keys = Array.from({ length: 200 }, (_, i) => newKey(`many-${i}`));
      const answers = await retryStorm(cluster, keys, { perKey: 10, spreadMs: 1_500, maxDelayMs: 30 });

      expect(checkStorm(answers)).toEqual([]);
      const entered = await shared.countByKey('entered', keys);
      const effectRows = await shared.countByKey('effect', keys);
      expect(keys.filter((key) => entered.get(key) !== 1 || effectRows.get(key) !== 1)).toEqual([]);
      // Each key's record is completed and holds the bytes its original answer sent.
      const originals = new Map(answers.filter(({ result }) => isOriginal(result)).map((a) => [a.key, a.result]));
      const stored = await Promise.all(keys.map(async (key) => ({ key, record: await store.record(key) })));
      const wrong = stored.filter(
        ({ key, record }) => record?.state !== 'completed' || !record.body?.equals(originals.get(key)!.body),
      );
      expect(wrong.map(({ key, record }) => `${key}: ${record?.state ?? 'no record'}`)).toEqual([]);
      expect(await store.processing(keys)).toEqual([]); // nothing stuck: every record of the store, read
      expect(await harness().postgresRecords()).toBe(0);
      expect(cluster.logs()).toEqual([]);
    });
  });
}
