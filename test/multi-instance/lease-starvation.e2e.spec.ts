import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { Cluster } from './support/cluster.js';
import type { HttpResult } from './support/http.js';
import { SharedDatabase } from './support/shared-database.js';
import { effectOf, groupBy, isOriginal, isRetryableProblem } from './support/traffic.js';

// DESIGN.md §6, "The lease outlives pool queues": lease renewal and the
// completion write must not wait behind the app's own queries. Each instance
// gets a small pool, and every handler holds a pooled connection for a while
// (its `effect` row is written by a statement that also sleeps in PostgreSQL),
// so under a storm the app's queries wait for a connection several times
// longer than `lockTimeout`. A live handler must keep its lease all the same:
// no retry may take its record over, and no key may run twice.
//
// lockTimeout is 2 s: long against the event-loop stalls of a busy 2-core
// machine (up to ~0.4 s seen here), short against the pool wait (seconds).
const INSTANCES = 3;
const LOCK_TIMEOUT_MS = 2_000;
/** Connections per instance: the app's pool (`extra.max`). */
const POOL_MAX = 2;
/** How long each handler's `effect` statement holds its connection. */
const HOLD_MS = 100;
const KEYS = 300;
const REQUESTS_PER_KEY = 10;
/** Of those, how many are patient clients, which ask again until they get a 2xx; the others ask once. */
const PATIENT_PER_KEY = 3;
/** A patient client's pause after a 409 or 503, before it asks again. */
const BACKOFF_MS = 100;
/** Patient clients give up (and the test fails) after this long. */
const DEADLINE_MS = 60_000;

describe('multi-instance: lease starvation (3 processes, pools of 2, lockTimeout 2 s)', () => {
  let database: TestDatabase;
  let shared: SharedDatabase;
  let cluster: Cluster;

  beforeAll(async () => {
    database = await createTestDatabase();
    shared = await SharedDatabase.prepare(database.url);
    cluster = await Cluster.start(INSTANCES, database.url, LOCK_TIMEOUT_MS, {
      POOL_MAX: String(POOL_MAX),
      // App queries wait for a connection as long as it takes, rather than fail.
      POOL_CONNECTION_TIMEOUT_MS: String(10 * DEADLINE_MS),
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await shared?.close();
    await database?.drop();
  });

  it(`runs each of ${KEYS} keys once when ${KEYS * REQUESTS_PER_KEY} requests make the app's pool wait exceed lockTimeout`, async () => {
    const keys = Array.from({ length: KEYS }, (_, i) => `starved-${i}-${randomUUID()}`);
    const answers: { key: string; result: HttpResult; ms: number }[] = [];
    const deadline = Date.now() + DEADLINE_MS;
    const headers = { 'X-Hold-Ms': String(HOLD_MS) };
    const send = async (key: string, instance: number) => {
      const sent = Date.now();
      const result = await cluster.workers[instance].request({ path: '/effects', key, headers });
      answers.push({ key, result, ms: Date.now() - sent });
      return result;
    };

    // All requests at once, spread evenly over the instances (each instance's HTTP agent
    // keeps up to 128 in flight). The first few of each key are patient clients: they
    // ask again (any instance) until they get a 2xx.
    const unresolved = new Set<string>();
    await Promise.all(
      keys.flatMap((key, k) =>
        Array.from({ length: REQUESTS_PER_KEY }, async (_, i) => {
          let result = await send(key, (k + i) % INSTANCES);
          if (i >= PATIENT_PER_KEY) return;
          while (result.status >= 300) {
            if (Date.now() > deadline) return void unresolved.add(key);
            await sleep(BACKOFF_MS);
            result = await send(key, Math.floor(Math.random() * INSTANCES));
          }
        }),
      ),
    );

    // The experiment's precondition, not its result: the storm did make handlers wait
    // for connections far longer than lockTimeout (a request that ran its handler took
    // its claim, two queries and its completion through that wait).
    const slowest = Math.max(...answers.filter(({ result }) => isOriginal(result)).map(({ ms }) => ms));
    expect(slowest).toBeGreaterThan(2 * LOCK_TIMEOUT_MS);

    // Each key's handler ran once: one `effect` row.
    const effects = await shared.idsByKey('effect', keys);
    const notOnce = keys.flatMap((key) => {
      const ids = effects.get(key)!;
      return ids.length === 1 ? [] : [`${key}: ${ids.length} effect rows [${ids.join(', ')}]`];
    });
    expect(notOnce).toEqual([]);
    expect([...unresolved]).toEqual([]);
    // Every 2xx of a key (the original and its replays) carries that key's one execution;
    // every other answer said "try again later".
    const wrong: string[] = [];
    for (const [key, results] of groupBy(answers, (answer) => answer.key)) {
      const [effect] = effects.get(key)!;
      for (const { result } of results) {
        if (result.status < 300) {
          const body = effectOf(result);
          if (body.key !== key || body.effect !== effect) wrong.push(`${key} (effect ${effect}): ${result.body}`);
        } else if (!isRetryableProblem(result, 409) && !isRetryableProblem(result, 503)) {
          wrong.push(`${key}: ${result.status} ${result.body}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(await shared.processing(keys)).toEqual([]); // every key completed
    // Nothing was logged about a lease: not extended in time, taken over, or a completion that lost it.
    expect(cluster.logs().filter((log) => /lease|taken over/i.test(log))).toEqual([]);
  }, 120_000);
});
