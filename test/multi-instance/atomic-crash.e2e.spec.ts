import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { atomicRecords, idleInTransaction, untilBackendsGone, untilClaimsWaitForLock, workersOf } from './support/atomic-backends.js';
import { Cluster } from './support/cluster.js';
import type { HttpResult } from './support/http.js';
import { SharedDatabase } from './support/shared-database.js';
import { effectOf, isOriginal, isReplayOf } from './support/traffic.js';
import { WorkerProcess } from './support/worker-process.js';

// Issue #8's acceptance: kill -9 between the handler's write and the COMMIT,
// over 3 processes: the next retry runs once; nothing is ever done twice or
// half done. The route is worker/atomic-effects.controller.ts: its `effect`
// row is written with the transaction's manager, its `entered` row outside
// it (the witness that a handler ran). The lease is a minute long, so
// nothing here can recover by a lease running out: only by the rollback.
const LOCK_TIMEOUT_MS = 60_000;
const route = { path: '/atomic/effects' };
const gated = { ...route, headers: { 'X-Gate': '1' } };

describe('multi-instance: atomic mode, an instance killed (kill -9) before its COMMIT (3 processes, one PostgreSQL)', () => {
  let database: TestDatabase;
  let shared: SharedDatabase;
  let cluster: Cluster;
  const newKey = (name: string) => `atomic-${name}-${randomUUID()}`;

  /**
   * Sends the gated original of `key` to `worker` and resolves once its
   * handler has written its effect and waits before the COMMIT; then checks
   * that nothing of it is visible yet. Resolves the original's fate and the
   * backend that holds its transaction.
   */
  async function holdBeforeCommit(worker: WorkerProcess, key: string) {
    const original = worker.request({ ...gated, key }).then(
      () => 'answered' as const,
      () => 'no answer' as const,
    );
    await worker.arrived(key);
    expect(await workersOf(shared, 'entered', key)).toEqual([worker.name]); // the handler ran...
    expect(await workersOf(shared, 'effect', key)).toEqual([]); // ...and its write is not committed
    expect(await atomicRecords(shared, key)).toEqual([]); // nor is the claim
    const transaction = await idleInTransaction(shared);
    expect(transaction).toHaveLength(1); // the original's, open on the server
    return { original, transaction };
  }

  /** What every key ends with: the one answer that ran is stored, its effect is the only one, nothing is in flight. */
  async function expectDoneOnce(key: string, answer: HttpResult, ranOn: string[]): Promise<void> {
    expect(await workersOf(shared, 'entered', key)).toEqual(ranOn);
    expect(await shared.idsByKey('effect', [key])).toEqual(new Map([[key, [effectOf(answer).effect]]]));
    expect(await atomicRecords(shared, key)).toEqual([{ status: 'completed', response_status: 201, response_body: answer.body }]);
    expect(await shared.processing()).toEqual([]);
  }

  /** Errors the surviving instances logged (none expected: the crash is not theirs). */
  const survivorErrors = () =>
    cluster.workers.filter((worker) => worker.alive).flatMap((worker) => worker.logs.filter((log) => log.level === 'error'));

  beforeAll(async () => {
    database = await createTestDatabase();
    shared = await SharedDatabase.prepare(database.url);
    cluster = await Cluster.start(3, database.url, LOCK_TIMEOUT_MS);
  }, 60_000);

  // Every test kills an instance: a new one of the same name takes its place before the next test.
  beforeEach(async () => {
    const env = { DATABASE_URL: database.url, LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS) };
    for (const [i, worker] of cluster.workers.entries()) {
      if (!worker.alive) cluster.workers[i] = await WorkerProcess.start(worker.name, env);
    }
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await shared?.close();
    await database?.drop();
  });

  it('rolls back the killed original; its duplicate, waiting in PostgreSQL on another instance, then runs once (201) and a third replays it', async () => {
    const [a, b, c] = cluster.workers;
    const key = newKey('duplicate-waits');
    const { original } = await holdBeforeCommit(a, key);

    let duplicateAnswered = false;
    const duplicate = b.request({ ...route, key }).finally(() => (duplicateAnswered = true));
    await untilClaimsWaitForLock(shared, 1); // B's claim waits on A's uncommitted row
    expect(duplicateAnswered).toBe(false);
    expect(await workersOf(shared, 'entered', key)).toEqual(['w1']); // B has not run the handler

    await a.crash();
    expect(await original).toBe('no answer');
    const answer = await duplicate;
    expect(isOriginal(answer)).toBe(true);
    expect(effectOf(answer)).toMatchObject({ key, worker: 'w2' });
    expect(isReplayOf(await c.request({ ...route, key }), answer)).toBe(true);
    await expectDoneOnce(key, answer, ['w1', 'w2']); // A's run left nothing, B's run is the one effect
    expect(survivorErrors()).toEqual([]);
  });

  it('rolls back the killed original with no duplicate: the record never existed, so a retry runs at once (Prefer: wait=0) and a third replays it', async () => {
    const [a, b, c] = cluster.workers;
    const key = newKey('plain');
    const { original, transaction } = await holdBeforeCommit(a, key);

    await a.crash();
    expect(await original).toBe('no answer');
    await untilBackendsGone(shared, transaction); // the server saw the connection go and rolled back
    expect(await workersOf(shared, 'effect', key)).toEqual([]);
    expect(await atomicRecords(shared, key)).toEqual([]);

    // wait=0: a record left in flight would answer 409 at once instead of running.
    const retry = await b.request({ ...route, key, headers: { Prefer: 'wait=0' } });
    expect(isOriginal(retry)).toBe(true);
    expect(effectOf(retry)).toMatchObject({ key, worker: 'w2' });
    expect(isReplayOf(await c.request({ ...route, key }), retry)).toBe(true);
    await expectDoneOnce(key, retry, ['w1', 'w2']);
    expect(survivorErrors()).toEqual([]);
  });

  it('with duplicates waiting on both other instances: exactly one of them runs, the other replays its answer byte for byte', async () => {
    const [a, b, c] = cluster.workers;
    const key = newKey('two-wait');
    const { original } = await holdBeforeCommit(a, key);

    const duplicates = [b, c].map((worker) => worker.request({ ...route, key }));
    await untilClaimsWaitForLock(shared, 2);

    await a.crash();
    expect(await original).toBe('no answer');
    const answers = await Promise.all(duplicates);
    const ran = answers.filter(isOriginal);
    expect(ran).toHaveLength(1);
    const [answer] = ran;
    expect(answers.filter((other) => other !== answer && isReplayOf(other, answer))).toHaveLength(1);
    const runner = effectOf(answer).worker;
    expect(['w2', 'w3']).toContain(runner);
    await expectDoneOnce(key, answer, ['w1', runner]);
    expect(survivorErrors()).toEqual([]);
  });
});
