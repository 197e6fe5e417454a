import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { SharedDatabase } from './support/shared-database.js';
import { startTerminatingProxy, type TerminatingProxy } from './support/terminating-proxy.js';
import { isOriginal, isRetryableProblem } from './support/traffic.js';
import { Cluster } from './support/cluster.js';
import type { HttpResult } from './support/http.js';

// The deterministic form of what the outage test found: a PostgreSQL fast
// shutdown that reaches a connection while it opens used to kill the app
// instance (an unhandled pg `error` event in TypeORM 1.1). The instances
// guard new connections (worker/pg-connect-guard.ts, RELIABILITY.md).
describe('multi-instance: a connection terminated as it opens (PostgreSQL shutting down)', () => {
  let database: TestDatabase;
  let shared: SharedDatabase;
  let proxy: TerminatingProxy;
  let guarded: Cluster;

  /** 6 concurrent requests: the pool has one idle connection, so most open new ones. */
  const burst = (cluster: Cluster): Promise<(HttpResult | Error)[]> =>
    Promise.all(
      Array.from({ length: 6 }, () =>
        cluster.workers[0].request({ path: '/effects', key: `drop-${randomUUID()}` }).catch((error: Error) => error),
      ),
    );

  beforeAll(async () => {
    database = await createTestDatabase();
    shared = await SharedDatabase.prepare(database.url);
    proxy = await startTerminatingProxy(database.url);
    guarded = await Cluster.start(1, proxy.url, 1_000);
  }, 60_000);

  afterAll(async () => {
    await guarded?.stop();
    await proxy?.close();
    await shared?.close();
    await database?.drop();
  });

  it('keeps the instance alive: the affected requests answer 503 and the next ones run', async () => {
    const cluster = guarded;
    proxy.arm();
    const during = await burst(cluster);
    proxy.disarm();

    expect(cluster.workers[0].alive).toBe(true);
    const unexpected = during.filter(
      (answer) => answer instanceof Error || !(isOriginal(answer) || isRetryableProblem(answer, 503)),
    );
    expect(unexpected).toEqual([]);
    expect(during.some((answer) => !(answer instanceof Error) && answer.status === 503)).toBe(true);
    const after = await burst(cluster);
    expect(after.filter((answer) => answer instanceof Error || !isOriginal(answer))).toEqual([]);
  });
});
