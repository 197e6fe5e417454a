import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { SharedDatabase } from './support/shared-database.js';
import { checkOneKey, effectOf, groupBy, isOriginal } from './support/traffic.js';
import { Cluster } from './support/cluster.js';

// Issue acceptance 1 and 2: storms of retries over several app instances.
const INSTANCES = 3;
const LOCK_TIMEOUT_MS = 10_000; // no lease may end during a storm: these tests are about races, not crashes
const random = (below: number) => Math.floor(Math.random() * below);

describe('multi-instance: request storms (3 processes, one PostgreSQL)', () => {
  let database: TestDatabase;
  let shared: SharedDatabase;
  let cluster: Cluster;

  beforeAll(async () => {
    database = await createTestDatabase();
    shared = await SharedDatabase.prepare(database.url);
    cluster = await Cluster.start(INSTANCES, database.url, LOCK_TIMEOUT_MS);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await shared?.close();
    await database?.drop();
  });

  it('runs the side effect once for 300 concurrent requests with one key; the rest get 409 or a byte-identical replay', async () => {
    const key = `one-${randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        await sleep(random(200)); // some arrive while the first runs, some after it completed
        return cluster.workers[i % INSTANCES].request({ path: '/effects', key, headers: { 'X-Delay-Ms': '20' } });
      }),
    );

    const check = checkOneKey(results);
    expect(check).toEqual({ original: expect.anything() });
    expect(await shared.count('entered', key)).toBe(1);
    expect(await shared.count('effect', key)).toBe(1);
    expect(await shared.processing()).toEqual([]); // nothing stuck
    expect(cluster.logs()).toEqual([]);
  });

  it('runs each of 200 keys once when 2,000 requests retry them from random instances at random moments', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `many-${i}-${randomUUID()}`);
    const results = await Promise.all(
      keys.flatMap((key) =>
        Array.from({ length: 10 }, async () => {
          await sleep(random(1_500));
          const headers = { 'X-Delay-Ms': String(random(30)) };
          const result = await cluster.any().request({ path: '/effects', key, headers });
          return { key, result };
        }),
      ),
    );

    const failures: string[] = [];
    for (const [key, answers] of groupBy(results, (r) => r.key)) {
      const check = checkOneKey(answers.map((a) => a.result));
      if ('error' in check) failures.push(`${key}: ${check.error}`);
      else if (effectOf(check.original).key !== key) failures.push(`${key}: answered with ${check.original.body}`);
    }
    expect(failures).toEqual([]);
    const entered = await shared.countByKey('entered', keys);
    const effects = await shared.countByKey('effect', keys);
    expect(keys.filter((key) => entered.get(key) !== 1 || effects.get(key) !== 1)).toEqual([]);
    expect(await shared.processing()).toEqual([]); // nothing stuck
    expect(cluster.logs()).toEqual([]);
  });

  it('never replays a response to another principal: 100 keys each used by alice and bob, 600 requests', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `shared-${i}-${randomUUID()}`);
    const users = ['alice', 'bob'];
    const results = await Promise.all(
      keys.flatMap((key) =>
        Array.from({ length: 6 }, async (_, i) => {
          const user = users[i % 2];
          await sleep(random(500));
          return { key, user, result: await cluster.any().request({ path: '/effects', key, user }) };
        }),
      ),
    );

    const failures: string[] = [];
    for (const answer of results.filter(({ result }) => result.status === 201)) {
      const body = effectOf(answer.result);
      if (body.principal !== answer.user || body.key !== answer.key) {
        failures.push(`${answer.user}/${answer.key} got ${answer.result.body}`);
      }
    }
    for (const [id, answers] of groupBy(results, (r) => `${r.user}/${r.key}`)) {
      const check = checkOneKey(answers.map((a) => a.result));
      if ('error' in check) failures.push(`${id}: ${check.error}`);
    }
    expect(failures).toEqual([]);
    expect(results.filter((r) => isOriginal(r.result))).toHaveLength(200);
    for (const user of users) {
      const effects = await shared.countByKey('effect', keys, user);
      expect(keys.filter((key) => effects.get(key) !== 1)).toEqual([]);
    }
  });
});
