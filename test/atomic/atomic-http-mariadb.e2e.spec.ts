import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import mysql from 'mysql2/promise';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { createMysqlDatabase, mysqlDescribe, type MysqlTestDatabase } from '../support/mariadb.js';
import { startMysqlWireCounter, type MysqlWireCounter } from '../support/mysql-wire-counter.js';
import { Gates } from '../fixtures/gates.js';
import { ATOMIC_MYSQL_DDL, MYSQL_CLAIM_PATHS, MysqlAtomicAppModule, type MysqlClaimPath } from './atomic-mariadb-app.js';
import { untilLockWaits } from './mariadb-lock-waits.js';

const describeWithMysql = await mysqlDescribe();

let keySequence = 0;
const newKey = () => `atomic-mariadb-${process.pid}-${++keySequence}`;

const CASES = ADAPTERS.flatMap((adapter) => MYSQL_CLAIM_PATHS.map((path): [AdapterName, MysqlClaimPath] => [adapter, path]));

/** The statements one atomic request sends, in order, per claim path (the handler's INSERT included). */
const FIRST_EXECUTION: Record<MysqlClaimPath, RegExp[]> = {
  'INSERT ... RETURNING': [
    /^START TRANSACTION$/,
    /^SET STATEMENT innodb_lock_wait_timeout=0 FOR INSERT INTO `idempotency_records`[\s\S]*RETURNING fingerprint/,
    /^INSERT INTO atomic_orders/,
    /^UPDATE `idempotency_records`\s+SET status = 'completed'/,
    /^COMMIT$/,
  ],
  'upsert then SELECT': [
    /^START TRANSACTION$/,
    /^SET @nestjs_idempotency_lock_wait = @@SESSION.innodb_lock_wait_timeout, SESSION innodb_lock_wait_timeout = 1$/,
    /^INSERT INTO `idempotency_records`[\s\S]*ON DUPLICATE KEY UPDATE(?![\s\S]*RETURNING)/,
    /^SELECT fingerprint, [\s\S]* FOR UPDATE$/,
    /^SET SESSION innodb_lock_wait_timeout = @nestjs_idempotency_lock_wait$/,
    /^INSERT INTO atomic_orders/,
    /^UPDATE `idempotency_records`\s+SET status = 'completed'/,
    /^COMMIT$/,
  ],
};

describeWithMysql.each(CASES)('atomic mode over HTTP on MariaDB (%s, %s)', (adapter, path) => {
  let database: MysqlTestDatabase;
  let wire: MysqlWireCounter;
  let app: INestApplication;
  let gates: Gates;
  /** A pool of the test's own, straight to the server: it sees committed rows only. */
  let observer: mysql.Pool;
  const post = (route: string, key: string, body: object) =>
    request(app.getHttpServer()).post(`/atomic/${route}`).set('Idempotency-Key', key).send(body);
  const count = async (sql: string, value: string) => Number(((await observer.query(sql, [value]))[0] as { n: number }[])[0].n);
  const orders = (item: string) => count('SELECT count(*) AS n FROM atomic_orders WHERE item = ?', item);
  const records = (key: string) => count('SELECT count(*) AS n FROM idempotency_records WHERE `key` = ?', key);

  const lockWaits = (n: number) => untilLockWaits(observer, database.name, n);

  beforeAll(async () => {
    database = await createMysqlDatabase('atomic');
    wire = await startMysqlWireCounter(database.url);
    app = await bootApp(adapter, [MysqlAtomicAppModule.forRoot(wire.url, path)]);
    await app.get(DataSource).query(ATOMIC_MYSQL_DDL);
    gates = app.get(Gates);
    observer = mysql.createPool({ uri: database.url, connectionLimit: 2 });
  });

  afterAll(async () => {
    await observer?.end();
    await app?.close();
    await wire?.close();
    await database?.drop();
  });


  it('commits the handler’s write with the record, and replays it without running again', async () => {
    const key = newKey();
    const item = `commit-${adapter}-${path}`;
    const first = await post('orders', key, { item });
    expect(first.status).toBe(201);
    const retry = await post('orders', key, { item });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.text).toBe(first.text);
    expect(await orders(item)).toBe(1);
    expect(await records(key)).toBe(1);
  });

  it('sends one statement per round trip: the transaction, the claim, the handler’s write, the completion, COMMIT', async () => {
    wire.reset();
    expect((await post('orders', newKey(), { item: `round-trips-${adapter}` })).status).toBe(201);
    expect(wire.roundTrips).toEqual(FIRST_EXECUTION[path].map((statement) => expect.stringMatching(statement)));
  });

  it.each([
    ['throws (500)', 'error', 500],
    ['answers a status that is not stored (503)', 'unavailable', 503],
  ] as const)('rolls back the write and the record when the handler %s; a retry runs cleanly', async (_, fail, status) => {
    const key = newKey();
    const item = `rollback-${fail}-${adapter}-${path}`;
    expect((await post('orders', key, { item, fail })).status).toBe(status);
    expect(await orders(item)).toBe(0);
    expect(await records(key)).toBe(0);
    const retry = await post('orders', key, { item });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await orders(item)).toBe(1);
  });

  it('answers a concurrent duplicate 409 (wait 0): it never sees the uncommitted outcome', async () => {
    const key = newKey();
    const item = `duplicate-${adapter}-${path}`;
    const original = post('orders', key, { item, gate: item }).then((r) => r);
    await gates.of(item).arrived(1);
    const started = Date.now();
    const duplicate = await post('orders', key, { item, gate: item });
    const elapsed = Date.now() - started;
    const committedMeanwhile = await orders(item);
    gates.of(item).open(); // before any assertion, so that a failure leaves no request hanging
    expect(duplicate.status).toBe(409);
    expect(duplicate.headers['retry-after']).toBe('1');
    // MariaDB takes a lock wait of 0 (no wait); MySQL's least is 1 s.
    if (path === 'INSERT ... RETURNING') expect(elapsed).toBeLessThan(900);
    expect(committedMeanwhile).toBe(0); // the original's write was not committed yet
    expect((await original).status).toBe(201);
    expect(await orders(item)).toBe(1);
    expect(await records(key)).toBe(1);
  });

  it('lets concurrent duplicates wait for the commit (wait) and replay it; the handler runs once', async () => {
    const key = newKey();
    const item = `waiting-${adapter}-${path}`;
    const original = post('waiting-orders', key, { item, gate: item }).then((r) => r);
    await gates.of(item).arrived(1);
    const duplicates = Array.from({ length: 5 }, () => post('waiting-orders', key, { item, gate: item }).then((r) => r));
    // The duplicates' claims wait on the original's uncommitted row: an InnoDB lock wait.
    await lockWaits(5).finally(() => gates.of(item).open());
    const [first, ...waited] = await Promise.all([original, ...duplicates]);
    expect(first.status).toBe(201);
    for (const response of waited) {
      expect(response.status).toBe(201);
      expect(response.headers['idempotent-replayed']).toBe('true');
      expect(response.text).toBe(first.text);
    }
    expect(await orders(item)).toBe(1);
  });

  it('lets a waiting duplicate run when the original rolls back', async () => {
    const key = newKey();
    const item = `waiting-rollback-${adapter}-${path}`;
    const original = post('waiting-orders', key, { item, gate: item, fail: 'error' }).then((r) => r);
    await gates.of(item).arrived(1);
    const duplicate = post('waiting-orders', key, { item: `${item}-retry` }).then((r) => r);
    await lockWaits(1).finally(() => gates.of(item).open());
    expect((await original).status).toBe(500);
    const retry = await duplicate;
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect([await orders(item), await orders(`${item}-retry`), await records(key)]).toEqual([0, 1, 1]);
  });

  it('nests the handler’s own manager.transaction() in a savepoint', async () => {
    const item = `nested-${adapter}-${path}`;
    expect((await post('nested', newKey(), { item })).status).toBe(201);
    expect(await orders(`${item}-inner`)).toBe(1);
    expect(await orders(`${item}-rolled-back`)).toBe(0);
  });

  it('rolls back what a nested manager.transaction() committed when the handler throws after it', async () => {
    const key = newKey();
    const item = `nested-then-fail-${adapter}-${path}`;
    expect((await post('nested', key, { item, fail: 'error' })).status).toBe(500);
    expect([await orders(`${item}-inner`), await records(key)]).toEqual([0, 0]);
  });
});
