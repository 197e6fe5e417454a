import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPostgres, type PostgresServer } from '../../tools/postgres-server.js';
import { Clients } from './support/clients.js';
import { SharedDatabase } from './support/shared-database.js';
import { effectOf, isOriginal, isReplayOf, isRetryableProblem, retryWhileInFlight, until } from './support/traffic.js';
import { Cluster } from './support/cluster.js';

// Issue acceptance 6 (and 7 with a real outage): the test stops and starts
// PostgreSQL under the running instances. It needs a server of its own that
// can be restarted on the same port and data directory, so it does not use
// the shared test server.
const LOCK_TIMEOUT_MS = 1_000;

describe('multi-instance: database outage (3 processes, a PostgreSQL the test stops and starts)', () => {
  let dir: string;
  let dataDir: string;
  let port: number;
  let server: PostgresServer | undefined;
  let shared: SharedDatabase;
  let cluster: Cluster;

  const stopDatabase = async () => {
    await server!.stop();
    server = undefined;
  };
  const startDatabase = async () => {
    server = await startPostgres({ dataDir, port });
  };
  const invocations = async (route: string) => {
    const counts = await Promise.all(cluster.workers.map((worker) => worker.invocations()));
    return counts.reduce((sum, count) => sum + (count[route] ?? 0), 0);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outage-'));
    dataDir = join(dir, 'data');
    server = await startPostgres({ dataDir }); // persistent: its data survives stop()
    port = Number(new URL(server.url).port);
    shared = await SharedDatabase.prepare(server.url);
    cluster = await Cluster.start(3, server.url, LOCK_TIMEOUT_MS);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await shared?.close();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 while the database is down, runs no protected handler without a claim, runs failOpen ones, and recovers without restarting instances, running no key twice', async () => {
    const pids = cluster.workers.map((worker) => worker.pid);
    const keys = Array.from({ length: 150 }, (_, i) => `traffic-${i}-${randomUUID()}`);
    const clients = new Clients(cluster, keys, 20, 100);
    try {
      await until(() => clients.resolved.size >= 40, 'traffic before the outage');

      // Down, in the middle of traffic.
      await stopDatabase();
      const downAt = Date.now();
      await clients.startedBefore(downAt); // requests admitted before the outage have answered
      const handlersBefore = await invocations('effects');
      const openBefore = await invocations('fail-open');

      const probeKeys = Array.from({ length: 30 }, (_, i) => `down-${i}-${randomUUID()}`);
      const probes = await Promise.all(
        probeKeys.map((key, i) => cluster.workers[i % 3].request({ path: '/effects', key })),
      );
      const open = await Promise.all(
        cluster.workers.map((worker) => worker.request({ path: '/fail-open', key: `open-${randomUUID()}` })),
      );
      await sleep(LOCK_TIMEOUT_MS); // the clients keep retrying against the dead database meanwhile
      const handlersWhileDown = (await invocations('effects')) - handlersBefore;
      const openWhileDown = (await invocations('fail-open')) - openBefore;

      // Up again: the same processes, no restart.
      const upAt = Date.now();
      await startDatabase();
      await clients.done;

      expect(probes.filter((probe) => !isRetryableProblem(probe, 503))).toEqual([]);
      expect(probes[0].json()).toMatchObject({ type: expect.stringContaining('store-unavailable'), status: 503 });
      expect(handlersWhileDown).toBe(0);
      expect(open.map((answer) => answer.status)).toEqual([201, 201, 201]);
      expect(openWhileDown).toBe(3);
      const duringOutage = clients.attempts.filter((a) => a.startedAt >= downAt && a.endedAt! < upAt);
      expect(duringOutage.length).toBeGreaterThan(0);
      expect(duringOutage.filter((a) => !a.result || !isRetryableProblem(a.result, 503))).toEqual([]);

      expect(cluster.workers.map((worker) => [worker.pid, worker.alive])).toEqual(pids.map((pid) => [pid, true]));
      expect(clients.resolved.size).toBe(keys.length);
      const effects = await shared.countByKey('effect', keys);
      expect(keys.filter((key) => effects.get(key) !== 1)).toEqual([]); // no key ran twice
      const wrong = [...clients.resolved].filter(([key, answer]) => effectOf(answer).key !== key);
      expect(wrong).toEqual([]);
      // Left `processing`: only keys whose response was sent while their completion write failed
      // (acceptance 7), and their lease has ended, so a retry may take them over: none is stuck.
      const completionFailures = cluster.logs().filter((log) => /Could not complete/.test(log));
      const stuck = (await shared.processing(keys)).filter(
        (record) => record.lease_alive || !completionFailures.some((log) => log.includes(record.key)),
      );
      expect(stuck).toEqual([]);

      // Every instance serves new keys, and the keys refused during the outage run once now.
      for (const [i, key] of probeKeys.entries()) {
        expect(isOriginal(await cluster.workers[i % 3].request({ path: '/effects', key }))).toBe(true);
      }
      expect([...(await shared.countByKey('effect', probeKeys)).values()]).toEqual(probeKeys.map(() => 1));
    } finally {
      await clients.stop();
      if (!server) await startDatabase();
    }
  });

  it('sends the response when the database goes down between the handler and the completion write; once the lease ends a retry runs the handler again', async () => {
    const [a, b] = cluster.workers;
    const key = `down-before-completion-${randomUUID()}`;
    const first = a.request({ path: '/effects', key, headers: { 'X-Gate': 'after-effect' } });
    await a.arrived(key); // the side effect is written; the completion write comes next

    await stopDatabase();
    try {
      a.release(key);
      const answer = await first;
      expect(isOriginal(answer)).toBe(true);
      await until(() => a.logs.some((log) => log.level === 'error' && /complete/.test(log.message)), 'the failure log');
    } finally {
      await startDatabase();
    }
    expect(await shared.record(key)).toMatchObject({ status: 'processing' });

    const { answer: retry } = await retryWhileInFlight(() => b.request({ path: '/effects', key }), 100);
    expect(isOriginal(retry)).toBe(true);
    expect(await shared.count('effect', key)).toBe(2); // at-least-once in this window (see RELIABILITY.md)
    expect(isReplayOf(await a.request({ path: '/effects', key }), retry)).toBe(true);
    expect(await shared.record(key)).toMatchObject({ status: 'completed' });
  });
});
