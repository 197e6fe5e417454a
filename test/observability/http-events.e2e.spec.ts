import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { IdempotencyRecord, IdempotencyStoreConnectionError, TypeOrmIdempotencyStore } from '../../lib/index.js';
import { startPostgres, type PostgresServer } from '../../tools/postgres-server.js';
import { Gates } from '../fixtures/gates.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { EventRecorder, expectedEvent } from './support/event-recorder.js';
import { bootObservedApp } from './support/observed-app.js';

let keySequence = 0;
const newKey = () => `http-events-${process.pid}-${++keySequence}`;
const http = (scope: string, key: string, principal = '') => ({ scope, key, principal, transport: 'http' as const });

/** The debug lines of `key`, with each latency written as `N`. */
const linesOf = (logger: CapturingLogger, key: string) =>
  logger.debugLines.filter((line) => line.includes(JSON.stringify(key))).map((line) => line.replace(/\(store \d+\.\d ms\)$/, '(store N ms)'));

describe('events of every decision over HTTP (PostgreSQL store)', () => {
  let database: TestDatabase;
  let app: INestApplication;
  let dataSource: DataSource;
  const recorder = new EventRecorder();
  const logger = new CapturingLogger();

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await bootObservedApp(database.url, { onEvent: recorder.listener }, logger);
    dataSource = app.get(DataSource);
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  const post = (path: string, key: string, body: object = {}, user?: string) => {
    const call = request(app.getHttpServer()).post(path).set('Idempotency-Key', key);
    return (user ? call.set('x-user', user) : call).send(body);
  };

  it('first request: claimed, then completed with the status it stored; with its debug lines', async () => {
    const key = newKey();
    const response = await post('/orders', key, { item: 'book' }, 'user-42');
    expect(response.status).toBe(201);
    const record = http('POST /orders', key, 'user-42');
    expect(recorder.of(key)).toEqual([expectedEvent('claimed', record), expectedEvent('completed', record, { status: 201 })]);
    expect(recorder.of(key)[0].storeLatencyMs).toBeGreaterThan(0);
    expect(recorder.of(key)[1].storeLatencyMs).toBeGreaterThan(0);
    expect(linesOf(logger, key)).toEqual([
      `claimed POST /orders [user-42] key "${key}": running (store N ms)`,
      `completed POST /orders [user-42] key "${key}": stored 201 (store N ms)`,
    ]);
  });

  it('retry: replayed, with the stored status', async () => {
    const key = newKey();
    await post('/orders', key, { item: 'pen' });
    const retry = await post('/orders', key, { item: 'pen' });
    expect(retry.headers['idempotent-replayed']).toBe('true');
    const record = http('POST /orders', key);
    expect(recorder.of(key)).toEqual([
      expectedEvent('claimed', record),
      expectedEvent('completed', record, { status: 201 }),
      expectedEvent('replayed', record, { status: 201 }),
    ]);
    expect(linesOf(logger, key)[2]).toBe(`replayed POST /orders key "${key}": stored 201 (store N ms)`);
  });

  it('duplicate while the first is in flight: conflict', async () => {
    const key = newKey();
    const gates = app.get(Gates);
    const first = post('/slow/conflict', key).then((response) => response);
    await gates.of('conflict-1').arrived();
    const duplicate = await post('/slow/conflict', key);
    expect(duplicate.status).toBe(409);
    gates.of('conflict-1').open();
    expect((await first).status).toBe(201);
    const record = http('POST /slow/:name', key);
    expect(recorder.of(key)).toEqual([
      expectedEvent('claimed', record),
      expectedEvent('conflict', record),
      expectedEvent('completed', record, { status: 201 }),
    ]);
    expect(linesOf(logger, key)[1]).toBe(`conflict POST /slow/:name key "${key}": in flight (store N ms)`);
  });

  it('same key with another payload: mismatch', async () => {
    const key = newKey();
    await post('/orders', key, { item: 'book' });
    const other = await post('/orders', key, { item: 'lamp' });
    expect(other.status).toBe(422);
    const record = http('POST /orders', key);
    expect(recorder.of(key)).toEqual([
      expectedEvent('claimed', record),
      expectedEvent('completed', record, { status: 201 }),
      expectedEvent('mismatch', record),
    ]);
  });

  it('handler answers 503: released', async () => {
    const key = newKey();
    expect((await post('/unavailable', key)).status).toBe(503);
    const record = http('POST /unavailable', key);
    expect(recorder.of(key)).toEqual([expectedEvent('claimed', record), expectedEvent('released', record)]);
    expect(linesOf(logger, key)[1]).toBe(`released POST /unavailable key "${key}": a retry runs again (store N ms)`);
  });

  it('outcome in doubt (a 408 timeout): abandoned, left to its lease', async () => {
    const key = newKey();
    expect((await post('/timeout', key)).status).toBe(408);
    expect((await post('/timeout', key)).status).toBe(409);
    const record = http('POST /timeout', key);
    expect(recorder.of(key)).toEqual([expectedEvent('claimed', record), expectedEvent('abandoned', record), expectedEvent('conflict', record)]);
    expect(linesOf(logger, key)[1]).toBe(`abandoned POST /timeout key "${key}": outcome in doubt, left to its lease`);
  });

  it('response over maxResponseBytes: completed, then not-stored for the retry', async () => {
    const key = newKey();
    expect((await post('/big', key)).status).toBe(201);
    expect((await post('/big', key)).status).toBe(409);
    const record = http('POST /big', key);
    expect(recorder.of(key)).toEqual([
      expectedEvent('claimed', record),
      expectedEvent('completed', record, { status: 201 }),
      expectedEvent('not-stored', record),
    ]);
  });

  it('a lapsed lease: the retry takes it over (lease-taken-over), the stalled first cannot complete (completion-failed)', async () => {
    const key = newKey();
    const gates = app.get(Gates);
    const stalled = post('/slow/takeover', key).then((response) => response);
    await gates.of('takeover-1').arrived();
    // The first request's instance stalls past its lease: its record is now claimable.
    await dataSource.query(
      "UPDATE idempotency_records SET locked_until = now() - interval '1 second', expires_at = now() - interval '1 second' WHERE key = $1",
      [key],
    );
    const retry = post('/slow/takeover', key).then((response) => response);
    await gates.of('takeover-2').arrived();
    gates.of('takeover-2').open();
    expect((await retry).body).toEqual({ arrival: 2 });
    gates.of('takeover-1').open();
    expect((await stalled).body).toEqual({ arrival: 1 }); // still sent: its result is the caller's

    const record = http('POST /slow/:name', key);
    expect(recorder.of(key)).toEqual([
      expectedEvent('claimed', record),
      expectedEvent('lease-taken-over', record),
      expectedEvent('completed', record, { status: 201 }),
      expectedEvent('completion-failed', record),
    ]);
    expect(linesOf(logger, key).slice(1)).toEqual([
      `lease-taken-over POST /slow/:name key "${key}": its lease had run out; running (store N ms)`,
      `completed POST /slow/:name key "${key}": stored 201 (store N ms)`,
      `completion-failed POST /slow/:name key "${key}": the lease was lost (store N ms)`,
    ]);
  });
});

/**
 * The records live on a PostgreSQL server of their own, stopped before the
 * requests: a real connection failure (see test/e2e/store-outage.e2e.spec.ts).
 */
describe('events of an unreachable store over HTTP', () => {
  let storeServer: PostgresServer;
  let storeSource: DataSource;
  let app: INestApplication;
  const recorder = new EventRecorder();
  const logger = new CapturingLogger();

  beforeAll(async () => {
    storeServer = await startPostgres();
    storeSource = new DataSource({ type: 'postgres', url: storeServer.url, entities: [IdempotencyRecord], synchronize: true, logging: false });
    await storeSource.initialize();
    const store = new TypeOrmIdempotencyStore(storeSource);
    app = await bootObservedApp(null, { store, onEvent: recorder.listener }, logger);
    await storeServer.stop();
  });

  afterAll(async () => {
    await app?.close();
    await storeSource?.destroy();
    await storeServer?.stop();
  });

  it('store-error, answered 503', async () => {
    const key = newKey();
    const response = await request(app.getHttpServer()).post('/orders').set('Idempotency-Key', key).send({});
    expect(response.status).toBe(503);
    expect(recorder.of(key)).toEqual([
      expectedEvent('store-error', http('POST /orders', key), { error: expect.any(IdempotencyStoreConnectionError), failedOpen: false }),
    ]);
    const [line] = linesOf(logger, key);
    expect(line).toMatch(new RegExp(`^store-error POST /orders key "${key}": IdempotencyStoreConnectionError: .+ \\(store N ms\\)$`));
  });

  it('store-error with failedOpen: the handler ran unprotected', async () => {
    const key = newKey();
    const response = await request(app.getHttpServer()).post('/fail-open').set('Idempotency-Key', key).send({});
    expect(response.status).toBe(201);
    expect(recorder.of(key)).toEqual([
      expectedEvent('store-error', http('POST /fail-open', key), { error: expect.any(IdempotencyStoreConnectionError), failedOpen: true }),
    ]);
    expect(linesOf(logger, key)[0]).toMatch(/; running unprotected \(failOpen\) \(store N ms\)$/);
  });
});
