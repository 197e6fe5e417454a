import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { SharedDatabase } from './support/shared-database.js';
import { crashMidHandler, effectOf, forceTakeover, isOriginal, isReplayOf, isRetryableProblem, retryWhileInFlight, until } from './support/traffic.js';
import { Cluster } from './support/cluster.js';
import type { HttpResult } from './support/http.js';

// Issue acceptance 3, 4, 5 and 7: leases across instances — heartbeat,
// takeover fencing, a completion write that fails, a crashed instance.
// Lease expiry takes real time; lockTimeout is kept small and the tests
// assert on outcomes, never on durations.
const LOCK_TIMEOUT_MS = 1_000;
const effects = { path: '/effects' };
const gated = { ...effects, headers: { 'X-Gate': '1' } };

describe('multi-instance: leases (3 processes, one PostgreSQL, lockTimeout 1 s)', () => {
  let database: TestDatabase;
  let shared: SharedDatabase;
  let cluster: Cluster;
  const newKey = (name: string) => `${name}-${randomUUID()}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    shared = await SharedDatabase.prepare(database.url);
    cluster = await Cluster.start(3, database.url, LOCK_TIMEOUT_MS);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await shared?.close();
    await database?.drop();
  });

  it('never runs a handler that takes 3x lockTimeout a second time: its heartbeat keeps the lease while retries hit other instances', async () => {
    const [a, b, c] = cluster.workers;
    const key = newKey('slow');
    const first = a.request({ ...gated, key });
    await a.arrived(key);

    const retries: HttpResult[] = [];
    const since = Date.now();
    while (Date.now() - since < 3.3 * LOCK_TIMEOUT_MS) {
      retries.push(await (retries.length % 2 ? b : c).request({ ...effects, key }));
      await sleep(LOCK_TIMEOUT_MS / 4);
    }
    const record = await shared.record(key);
    a.release(key);
    const original = await first;

    expect(retries.filter((retry) => !isRetryableProblem(retry, 409))).toEqual([]);
    expect(record).toMatchObject({ status: 'processing', lease_alive: true });
    expect(record!.lease_ms_after_claim).toBeGreaterThan(3 * LOCK_TIMEOUT_MS); // extended, not just claimed
    expect(isOriginal(original)).toBe(true);
    expect(isReplayOf(await b.request({ ...effects, key }), original)).toBe(true);
    expect(await shared.count('entered', key)).toBe(1);
    expect(await shared.count('effect', key)).toBe(1);
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
      const staleToken = (await shared.record(key))!.token;

      const { answer: owner } = await forceTakeover(b, key, (id) => shared.endLease(id));
      const ownerToken = (await shared.record(key))!.token;
      expect(ownerToken).not.toBe(staleToken);

      // A's handler ends now: its complete() or release() must leave B's record alone.
      a.release(key, action);
      const staleAnswer = await stale;
      expect(staleAnswer.status).toBe(action === 'return' ? 201 : 500);
      await until(() => a.logs.some((log) => /taken over/.test(log.message)), 'the stale request to log the takeover');
      expect(await shared.record(key)).toMatchObject({ status: 'processing', token: ownerToken });

      b.release(key);
      const ownerAnswer = await owner;
      expect(isOriginal(ownerAnswer)).toBe(true);
      expect(await shared.record(key)).toMatchObject({ status: 'completed', token: ownerToken });
      const replay = await c.request({ ...effects, key });
      expect(isReplayOf(replay, ownerAnswer)).toBe(true);
      expect(await shared.count('entered', key)).toBe(2); // a takeover means the handler ran twice
      expect(await shared.count('effect', key)).toBe(action === 'return' ? 2 : 1);
    });
  });

  it('sends the response when the completion write fails, keeps the key in flight until its lease ends, then runs a retry again (at-least-once)', async () => {
    const [a, b, c] = cluster.workers;
    const key = newKey('completion-fails');
    // The fault: the database rejects the completion write of this key.
    const trigger = pg.escapeIdentifier(`fail_${key}`);
    await shared.query(`
      CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected fault: completion write rejected'; END $$`);
    await shared.query(`
      CREATE TRIGGER ${trigger} BEFORE UPDATE ON idempotency_records FOR EACH ROW
      WHEN (NEW.status = 'completed' AND NEW.key = ${pg.escapeLiteral(key)}) EXECUTE FUNCTION ${trigger}()`);

    const first = await a.request({ ...effects, key });
    expect(isOriginal(first)).toBe(true); // the handler's response still reaches its caller
    await until(() => a.logs.some((log) => log.level === 'error' && /complete/.test(log.message)), 'the failure log');
    expect(await shared.record(key)).toMatchObject({ status: 'processing' });
    expect(isRetryableProblem(await b.request({ ...effects, key }), 409)).toBe(true);

    // The database recovers; once the lease ends a retry runs the handler a second time.
    await shared.query(`DROP TRIGGER ${trigger} ON idempotency_records`);
    await shared.query(`DROP FUNCTION ${trigger}()`);
    const { answer: second } = await retryWhileInFlight((i) => (i % 2 ? b : c).request({ ...effects, key }), 100);
    expect(isOriginal(second)).toBe(true);
    expect(effectOf(second).effect).not.toBe(effectOf(first).effect);
    expect(await shared.count('effect', key)).toBe(2);
    expect(isReplayOf(await a.request({ ...effects, key }), second)).toBe(true);
    expect(await shared.record(key)).toMatchObject({ status: 'completed' });
  });

  // Last: it kills an instance.
  it('recovers a key whose instance was killed mid-handler: 409 while the lease lives, then one run that completes', async () => {
    const [a, b, c] = cluster.workers;
    const key = newKey('crash');
    expect(await crashMidHandler(a, key)).toBe('no answer'); // kill -9 while its handler waits

    expect(isRetryableProblem(await b.request({ ...effects, key }), 409)).toBe(true);
    const { answer: retry } = await retryWhileInFlight((i) => (i % 2 ? b : c).request({ ...effects, key }), 100);
    expect(isOriginal(retry)).toBe(true);
    expect(isReplayOf(await c.request({ ...effects, key }), retry)).toBe(true);
    expect(await shared.count('entered', key)).toBe(2); // the crashed run and the retry
    expect(await shared.count('effect', key)).toBe(1);
    expect(await shared.processing()).toEqual([]); // nothing stuck
  });
});
