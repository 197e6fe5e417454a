import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import pg from 'pg';
import { ADAPTERS } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { CLS_ORDERS_DDL } from './app/cls-orders.table.js';
import { ClsAppProcess } from './support/cls-app-process.js';

// The app runs in a child process (see app/main.ts: Jest cannot load nestjs-cls beside Nest 12).
let keySequence = 0;
const newKey = () => `cls-${process.pid}-${++keySequence}`;

describe.each(ADAPTERS)('ClsTransactionContext: @nestjs-cls/transactional in atomic mode (%s)', (adapter) => {
  let database: TestDatabase;
  let app: ClsAppProcess;
  /** A pool of the test's own: it sees committed rows only. */
  let observer: pg.Pool;
  const post = (path: string, key: string, body: object) =>
    request(app.url).post(`/cls/${path}`).set('Idempotency-Key', key).send(body);
  const count = async (sql: string, value: string) => Number((await observer.query(sql, [value])).rows[0].n);
  const orders = (item: string) => count('SELECT count(*) AS n FROM cls_orders WHERE item = $1', item);
  const records = (key: string) => count('SELECT count(*) AS n FROM idempotency_records WHERE key = $1', key);

  beforeAll(async () => {
    database = await createTestDatabase();
    observer = new pg.Pool({ connectionString: database.url, max: 2 });
    await observer.query(CLS_ORDERS_DDL);
    app = await ClsAppProcess.start(adapter, database.url);
  });

  afterAll(async () => {
    await app?.stop();
    await observer?.end();
    await database?.drop();
  });

  it('makes txHost.tx the request’s transaction: the write commits with the record, and a retry replays', async () => {
    const key = newKey();
    const item = `commit-${adapter}`;
    const first = await post('orders', key, { item });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ item, sameManager: true, active: true, proxied: true });
    expect(await orders(item)).toBe(1);
    expect(await records(key)).toBe(1);
    const retry = await post('orders', key, { item });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.text).toBe(first.text);
    expect(await orders(item)).toBe(1);
  });

  it('rolls back the txHost.tx write and the record when the handler throws; a retry runs cleanly', async () => {
    const key = newKey();
    const item = `rollback-${adapter}`;
    expect((await post('orders', key, { item, fail: true })).status).toBe(500);
    expect(await orders(item)).toBe(0);
    expect(await records(key)).toBe(0);
    const retry = await post('orders', key, { item });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await orders(item)).toBe(1);
  });

  it('leaves no transaction active in the request’s CLS context outside atomic mode', async () => {
    expect((await request(app.url).get('/cls/active')).body).toEqual({ active: false });
  });

  it('runs execute({ atomic: true })’s operation with txHost.tx in the transaction: commit, replay, rollback', async () => {
    const key = newKey();
    const item = `execute-${adapter}`;
    const first = await post('execute', key, { item });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ item, sameManager: true, active: true });
    expect(await orders(item)).toBe(1);
    expect(await records(key)).toBe(1);
    const retry = await post('execute', key, { item });
    expect(retry.body).toEqual(first.body);
    expect(await orders(item)).toBe(1);

    const failing = newKey();
    expect((await post('execute', failing, { item: `${item}-failed`, fail: true })).status).toBe(500);
    expect(await orders(`${item}-failed`)).toBe(0);
    expect(await records(failing)).toBe(0);
  });

  it('lets execute() join a @Transactional() transaction of the caller’s ({ manager: txHost.tx }): all commits or nothing', async () => {
    const key = newKey();
    const item = `joined-${adapter}`;
    expect((await post('execute-in-transaction', key, { item })).status).toBe(201);
    for (const written of [`${item}-before`, item, `${item}-after`]) expect(await orders(written)).toBe(1);
    expect(await records(key)).toBe(1);

    const failing = newKey();
    const failed = `${item}-failed`;
    expect((await post('execute-in-transaction', failing, { item: failed, fail: true })).status).toBe(500);
    for (const written of [`${failed}-before`, failed, `${failed}-after`]) expect(await orders(written)).toBe(0);
    expect(await records(failing)).toBe(0);
  });

  it('joins @Transactional() (Required), nests Propagation.Nested in a savepoint, and commits RequiresNew on its own', async () => {
    const item = `propagation-${adapter}`;
    const key = newKey();
    const response = await post('propagation', key, { item });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ required: true, nested: true, requiresNew: true });
    expect(await orders(`${item}-required`)).toBe(1);
    expect(await orders(`${item}-nested-failed`)).toBe(0);
    expect(await orders(`${item}-nested`)).toBe(1);
    expect(await orders(`${item}-requires-new`)).toBe(1);
    expect(await records(key)).toBe(1);
  });

  it('rolls back Required and Nested writes with the request; a RequiresNew transaction stays committed', async () => {
    const item = `propagation-failed-${adapter}`;
    const key = newKey();
    expect((await post('propagation', key, { item, fail: true })).status).toBe(500);
    expect(await orders(`${item}-required`)).toBe(0);
    expect(await orders(`${item}-nested`)).toBe(0);
    expect(await orders(`${item}-requires-new`)).toBe(1);
    expect(await records(key)).toBe(0);
  });
});
