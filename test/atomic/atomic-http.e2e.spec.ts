import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { ADAPTERS, bootApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { Gates } from '../fixtures/gates.js';
import { ATOMIC_DDL, AtomicAppModule } from './atomic-app.js';

let keySequence = 0;
const newKey = () => `atomic-${process.pid}-${++keySequence}`;

describe.each(ADAPTERS)('atomic mode over HTTP on PostgreSQL (%s)', (adapter) => {
  let database: TestDatabase;
  let app: INestApplication;
  let dataSource: DataSource;
  let gates: Gates;
  /** A pool of the test's own: it sees committed rows only. */
  let observer: pg.Pool;
  const post = (path: string, key: string, body: object) =>
    request(app.getHttpServer()).post(`/atomic/${path}`).set('Idempotency-Key', key).send(body);
  const count = async (sql: string, value: string) => Number((await observer.query(sql, [value])).rows[0].n);
  const orders = (item: string) => count('SELECT count(*) AS n FROM atomic_orders WHERE item = $1', item);
  const records = (key: string) => count('SELECT count(*) AS n FROM idempotency_records WHERE key = $1', key);

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await bootApp(adapter, [AtomicAppModule.forRoot(database.url)]);
    dataSource = app.get(DataSource);
    for (const statement of ATOMIC_DDL) await dataSource.query(statement);
    gates = app.get(Gates);
    observer = new pg.Pool({ connectionString: database.url, max: 2 });
  });

  afterAll(async () => {
    await observer?.end();
    await app?.close();
    await database?.drop();
  });

  it('commits the handler’s write with the record, and replays it without running again', async () => {
    const key = newKey();
    const item = `commit-${adapter}`;
    const first = await post('orders', key, { item });
    expect(first.status).toBe(201);
    const retry = await post('orders', key, { item });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.text).toBe(first.text);
    expect(await orders(item)).toBe(1);
    expect(await records(key)).toBe(1);
  });

  it('sends the response only after COMMIT', async () => {
    // The deferred trigger holds COMMIT for 300 ms: a response sent before it would find no committed row.
    const response = await post('orders', newKey(), { item: 'slow-commit' });
    expect(response.status).toBe(201);
    expect(await orders('slow-commit')).toBeGreaterThanOrEqual(1);
    expect(await count('SELECT count(*) AS n FROM atomic_orders WHERE id = $1', String(response.body.id))).toBe(1);
  });

  it.each([
    ['throws (500)', 'error', 500],
    ['answers a status that is not stored (503)', 'unavailable', 503],
  ] as const)('rolls back the write and the record when the handler %s; a retry runs cleanly', async (_, fail, status) => {
    const key = newKey();
    const item = `rollback-${fail}-${adapter}`;
    expect((await post('orders', key, { item, fail })).status).toBe(status);
    expect(await orders(item)).toBe(0);
    expect(await records(key)).toBe(0);
    const retry = await post('orders', key, { item });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await orders(item)).toBe(1);
  });

  it('answers 503 not-committed, and keeps nothing, when the COMMIT fails', async () => {
    const key = newKey();
    const response = await post('orders', key, { item: 'fail-commit' });
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.body.type).toBe('urn:nestjs-idempotency:not-committed');
    expect(await orders('fail-commit')).toBe(0);
    expect(await records(key)).toBe(0);
  });

  it('answers a concurrent duplicate 409 at once (wait 0): it never sees the uncommitted outcome', async () => {
    const key = newKey();
    const item = `duplicate-${adapter}`;
    const original = post('orders', key, { item, gate: item }).then((r) => r);
    await gates.of(item).arrived(1);
    const duplicate = await post('orders', key, { item, gate: item });
    expect(duplicate.status).toBe(409);
    expect(duplicate.headers['retry-after']).toBe('1');
    expect(await orders(item)).toBe(0); // the original's write is not committed yet
    gates.of(item).open();
    expect((await original).status).toBe(201);
    expect(await orders(item)).toBe(1);
  });

  it('lets concurrent duplicates wait for the commit (wait) and replay it; the handler runs once', async () => {
    const key = newKey();
    const item = `waiting-${adapter}`;
    const original = post('waiting-orders', key, { item, gate: item }).then((r) => r);
    await gates.of(item).arrived(1);
    const duplicates = Array.from({ length: 5 }, () => post('waiting-orders', key, { item, gate: item }).then((r) => r));
    // The duplicates' claims wait on the original's uncommitted row (a lock wait in PostgreSQL).
    await waitForLockWaits(observer, 5);
    gates.of(item).open();
    const [first, ...waited] = await Promise.all([original, ...duplicates]);
    expect(first.status).toBe(201);
    for (const response of waited) {
      expect(response.status).toBe(201);
      expect(response.headers['idempotent-replayed']).toBe('true');
      expect(response.text).toBe(first.text);
    }
    expect(await orders(item)).toBe(1);
  });

  it('nests the handler’s own manager.transaction() in a savepoint', async () => {
    const item = `nested-${adapter}`;
    expect((await post('nested', newKey(), { item })).status).toBe(201);
    expect(await orders(`${item}-inner`)).toBe(1);
    expect(await orders(`${item}-rolled-back`)).toBe(0);
  });
});

/** Resolves once `count` backends of the database wait for a lock (a barrier on the server's own state). */
async function waitForLockWaits(observer: pg.Pool, count: number): Promise<void> {
  for (;;) {
    const { rows: [{ n }] } = await observer.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if (n >= count) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('atomic mode with a transactionContext that throws', () => {
  let database: TestDatabase;
  let app: INestApplication;
  let observer: pg.Pool;

  beforeAll(async () => {
    database = await createTestDatabase();
    const refusing = { run: () => { throw new Error('the transaction context refused'); } };
    app = await bootApp('express', [AtomicAppModule.forRoot(database.url, { transactionContext: refusing })]);
    for (const statement of ATOMIC_DDL) await app.get(DataSource).query(statement);
    observer = new pg.Pool({ connectionString: database.url, max: 1 });
  });

  afterAll(async () => {
    await observer?.end();
    await app?.close();
    await database?.drop();
  });

  it('answers 500 and rolls the claim back, and the app lives on', async () => {
    const key = newKey();
    const post = () => request(app.getHttpServer()).post('/atomic/orders').set('Idempotency-Key', key).send({ item: 'refused' });
    expect((await post()).status).toBe(500);
    expect((await post()).status).toBe(500); // not 409: the first claim was rolled back
    const { rows } = await observer.query('SELECT count(*)::int AS n FROM idempotency_records WHERE key = $1', [key]);
    expect(rows[0].n).toBe(0);
  });
});
