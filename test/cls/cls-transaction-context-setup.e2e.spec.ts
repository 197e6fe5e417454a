import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { IdempotencyRecord } from '../../lib/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import type { ClsAppOptions } from './app/cls-app.module.js';
import { CLS_ORDERS_DDL } from './app/cls-orders.table.js';
import { ClsAppProcess } from './support/cls-app-process.js';

// How apps may set up nestjs-cls around ClsTransactionContext, and the mistakes it names.
// Each app runs in a child process (see app/main.ts: Jest cannot load nestjs-cls beside Nest 12).
let database: TestDatabase;
/** A pool of the test's own: it sees committed rows only. */
let observer: pg.Pool;
let keySequence = 0;
const newKey = () => `cls-setup-${process.pid}-${++keySequence}`;
const count = async (sql: string, value: string) => Number((await observer.query(sql, [value])).rows[0].n);
const orders = (item: string) => count('SELECT count(*) AS n FROM cls_orders WHERE item = $1', item);
const records = (key: string) => count('SELECT count(*) AS n FROM idempotency_records WHERE key = $1', key);

/** The apps of the describe blocks below, by name: started together, since each takes seconds to boot. */
const APPS = {
  guard: { mount: 'guard' },
  ledger: { mount: 'middleware', ledger: true, connectionName: 'ledger' },
  otherDataSource: { mount: 'middleware', ledger: true },
  unknownName: { mount: 'middleware', connectionName: 'nope' },
} satisfies Record<string, ClsAppOptions>;
const apps = new Map<keyof typeof APPS, ClsAppProcess>();

beforeAll(async () => {
  database = await createTestDatabase();
  observer = new pg.Pool({ connectionString: database.url, max: 2 });
  await observer.query(CLS_ORDERS_DDL);
  // The records table exists before the apps start, so that their schema synchronizations do not race.
  const schema = new DataSource({ type: 'postgres', url: database.url, entities: [IdempotencyRecord], synchronize: true });
  await (await schema.initialize()).destroy();
  await Promise.all(
    Object.entries(APPS).map(async ([name, options]) => {
      apps.set(name as keyof typeof APPS, await ClsAppProcess.start('express', database.url, options));
    }),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([...apps.values()].map((app) => app.stop()));
  await observer?.end();
  await database?.drop();
});

/** The app of `name` in {@link APPS}, for the enclosing describe block. */
function appWith(name: keyof typeof APPS): () => ClsAppProcess {
  return () => apps.get(name)!;
}

const post = (app: ClsAppProcess, path: string, key: string, body: object) =>
  request(app.url).post(path).set('Idempotency-Key', key).send(body);

describe('a CLS context made by the ClsGuard', () => {
  const app = appWith('guard');

  it('commits the txHost.tx write with the record, and rolls both back on a throw', async () => {
    const key = newKey();
    const committed = await post(app(), '/cls/orders', key, { item: 'guard-commit' });
    expect(committed.status).toBe(201);
    expect(committed.body).toMatchObject({ sameManager: true, active: true });
    expect(await orders('guard-commit')).toBe(1);
    expect(await records(key)).toBe(1);

    const failing = newKey();
    expect((await post(app(), '/cls/orders', failing, { item: 'guard-rollback', fail: true })).status).toBe(500);
    expect(await orders('guard-rollback')).toBe(0);
    expect(await records(failing)).toBe(0);
  });
});

describe('two DataSources: the store and ClsTransactionContext({ connectionName }) on the second', () => {
  const app = appWith('ledger');

  it('makes the named TransactionHost’s tx the request’s transaction: commit, and rollback on a throw', async () => {
    const key = newKey();
    const committed = await post(app(), '/ledger/orders', key, { item: 'ledger-commit' });
    expect(committed.status).toBe(201);
    expect(committed.body).toMatchObject({ sameManager: true, active: true });
    expect(await orders('ledger-commit')).toBe(1);
    expect(await records(key)).toBe(1);

    const failing = newKey();
    expect((await post(app(), '/ledger/orders', failing, { item: 'ledger-rollback', fail: true })).status).toBe(500);
    expect(await orders('ledger-rollback')).toBe(0);
    expect(await records(failing)).toBe(0);
  });
});

describe.each<[string, keyof typeof APPS, string]>([
  [
    'a TransactionHost on another DataSource than the store',
    'otherDataSource',
    'IdempotencyConfigurationError: ClsTransactionContext: the TransactionHost is not on the DataSource of the idempotency store',
  ],
  [
    'an unknown connectionName',
    'unknownName',
    "IdempotencyConfigurationError: ClsTransactionContext: no TransactionHost of connectionName 'nope'",
  ],
])('refuses %s before the operation runs', (_, name, message) => {
  const app = appWith(name);

  it('fails the call with an error that names the fix, and keeps neither write nor record', async () => {
    const key = newKey();
    const item = `refused-${name}`;
    expect((await post(app(), '/cls/execute', key, { item })).status).toBe(500);
    await app().logged(message);
    expect(await orders(item)).toBe(0);
    expect(await records(key)).toBe(0);
  });
});
