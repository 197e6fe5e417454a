import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from './cluster.js';
import type { HttpResult } from './http.js';
import type { SharedStoreHarness } from './shared-store-harness.js';
import type { StoredRecordView } from './shared-store.js';
import { checkOneKey, crashMidHandler, effectOf, forceTakeover, isOriginal, isReplayOf, isRetryableProblem, until } from './traffic.js';

const LOCK_TIMEOUT_MS = 1_000;
const effects = { path: '/effects' };
const gated = { ...effects, headers: { 'X-Gate': '1' } };
const newKey = (name: string) => `${name}-${randomUUID()}`;

/** An answer and when the test had it (`Date.now()`). */
interface TimedAnswer {
  result: HttpResult;
  answeredAt: number;
}

/**
 * The lease tests of a shared store, after leases.e2e.spec.ts: the slow
 * handler's heartbeat (RELIABILITY.md 4), fencing (5) and the crashed
 * instance (3). The lease is read from the store (`endsInMs`, by the store's
 * clock) where that file reads the row. Lease expiry takes real time;
 * lockTimeout is 1 s.
 */
export function describeSharedStoreLeases(harness: () => SharedStoreHarness): void {
  describe(`leases (lockTimeout ${LOCK_TIMEOUT_MS / 1000} s)`, () => {
    let cluster: Cluster;

    beforeAll(async () => {
      cluster = await harness().startCluster(LOCK_TIMEOUT_MS);
    }, 60_000);

    afterAll(async () => {
      await cluster?.stop();
    });

    it('never runs a handler that takes 3x lockTimeout a second time: its heartbeat renews the lease while retries hit other instances', async () => {
      const { store, shared } = harness();
      const [a, b, c] = cluster.workers;
      const key = newKey('slow');
      const first = a.request({ ...gated, key });
      await a.arrived(key);
      const since = Date.now(); // no earlier than the claim
      const claimed = await store.record(key);
      expect(claimed).toMatchObject({ state: 'processing' });

      // The lease as the store holds it, read after each retry. `endsAfterClaimMs` is when it would end,
      // counted from `since`: a lower bound of how long after the claim the lease ends (`at` is taken before
      // the store is read, and the claim came before `since`).
      const lease = async () => {
        const at = Date.now();
        const record = await store.record(key);
        const endsInMs = record?.endsInMs ?? -2;
        return {
          readAtMs: at - since,
          state: record?.state ?? 'no record',
          token: record?.token,
          endsInMs,
          endsAfterClaimMs: at + endsInMs - since,
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

      // Processing with the claim's token at every read, and a lease that never ran out nor exceeded lockTimeout.
      const lapses = leases.filter(
        ({ state, token, endsInMs }) =>
          state !== 'processing' || token !== claimed!.token || endsInMs <= 0 || endsInMs > LOCK_TIMEOUT_MS,
      );
      expect(lapses).toEqual([]);
      // Extended, not just claimed: a lease read late in the hold ends more than 3x lockTimeout after the claim.
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
      const record = await store.record(key);
      expect(record).toMatchObject({ state: 'completed', token: claimed!.token, body: original.body });
      expect(record!.endsInMs).toBeGreaterThan(LOCK_TIMEOUT_MS); // now the ttl's, no longer the lease's
      expect(cluster.logs().filter((log) => log.includes(key))).toEqual([]); // no lease lost, no write failed
    });

    describe.each([
      ['complete (overwrite)', 'return'],
      ['release (delete)', 'throw'],
    ] as const)('fencing: a request whose lease was taken over cannot %s', (_, action) => {
      it("the new owner's record", async () => {
        const { store, shared } = harness();
        const [a, b, c] = cluster.workers;
        const key = newKey(`fenced-${action}`);
        const stale = a.request({ ...gated, key });
        await a.arrived(key);
        const staleToken = (await store.record(key))!.token;

        const { answer: owner } = await forceTakeover(b, key, (id) => store.endLease(id));
        const claimedByOwner = await store.record(key);
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
        const isOwners = (record?: StoredRecordView) =>
          record?.state === 'processing' && record.token === ownerToken && record.body === null;
        await until(async () => loggedTakeover() || !isOwners(await store.record(key)), `the stale ${write}`);
        const afterStale = await store.record(key);
        // (The body as text, so that a failure shows whose response was written.)
        expect(afterStale && { ...afterStale, body: afterStale.body?.toString() ?? null }).toMatchObject({
          state: 'processing',
          token: ownerToken,
          body: null,
        });
        expect(loggedTakeover()).toBe(true);
        expect(afterStale!.endsInMs).toBeGreaterThan(0); // B's lease, still renewed by B's heartbeat
        expect(afterStale!.endsInMs).toBeLessThanOrEqual(LOCK_TIMEOUT_MS);

        b.release(key);
        const ownerAnswer = await owner;
        expect(isOriginal(ownerAnswer)).toBe(true);
        expect(effectOf(ownerAnswer).worker).toBe(b.name);
        const completed = await store.record(key);
        expect(completed).toMatchObject({ state: 'completed', token: ownerToken, body: ownerAnswer.body });
        expect(completed!.endsInMs).toBeGreaterThan(LOCK_TIMEOUT_MS);
        const replay = await c.request({ ...effects, key });
        expect(isReplayOf(replay, ownerAnswer)).toBe(true);
        expect(await shared.count('entered', key)).toBe(2); // a takeover means the handler ran twice
        expect(await shared.count('effect', key)).toBe(action === 'return' ? 2 : 1);
        expect(await harness().postgresRecords()).toBe(0);
      });
    });

    // Last: it kills an instance.
    it('recovers a key whose instance was killed mid-handler: 409 while the lease lives, then one takeover, not before the lease ended', async () => {
      const { store, shared } = harness();
      const [a, b, c] = cluster.workers;
      const key = newKey('crash');
      expect(await crashMidHandler(a, key)).toBe('no answer'); // kill -9 while its handler waits
      // The lease ends no earlier than `readAt + endsInMs`: the store's clock read it after `readAt`, and no
      // one renews it any more (a renewal sent just before the kill could only push the end later).
      const readAt = Date.now();
      const crashed = await store.record(key);
      expect(crashed).toMatchObject({ state: 'processing' });
      expect(crashed!.endsInMs).toBeGreaterThan(0);
      expect(crashed!.endsInMs).toBeLessThanOrEqual(LOCK_TIMEOUT_MS);
      const leaseEndsNoEarlierThan = readAt + crashed!.endsInMs;

      // Bursts of 6 concurrent retries over the two live instances, every 100 ms, until one is not a 409.
      const answers: TimedAnswer[] = [];
      const burst = () =>
        Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            (i % 2 ? b : c).request({ ...effects, key }).then((result) => ({ result, answeredAt: Date.now() })),
          ),
        );
      await until(
        async () => {
          const answered = await burst();
          answers.push(...answered);
          return answered.some(({ result }) => result.status !== 409);
        },
        'a retry to take the key over',
        15_000,
        100,
      );

      expect(isRetryableProblem(answers[0].result, 409)).toBe(true); // right after the crash: the lease lives
      const check = checkOneKey(answers.map(({ result }) => result)); // one takeover; the rest 409 or its replay
      expect(check).toEqual({ original: expect.anything() });
      const { original } = check as { original: HttpResult };
      const takeover = answers.find(({ result }) => result === original)!;
      expect(takeover.answeredAt).toBeGreaterThanOrEqual(leaseEndsNoEarlierThan);
      expect([b.name, c.name]).toContain(effectOf(original).worker);
      expect(isReplayOf(await c.request({ ...effects, key }), original)).toBe(true);
      expect(await shared.count('entered', key)).toBe(2); // the crashed run and the takeover
      expect(await shared.count('effect', key)).toBe(1);
      const record = await store.record(key);
      expect(record).toMatchObject({ state: 'completed', body: original.body });
      expect(record!.token).not.toBe(crashed!.token); // taken over by a claim of its own
      expect(await store.processing()).toEqual([]); // nothing stuck
      expect(await harness().postgresRecords()).toBe(0);
    });
  });
}
