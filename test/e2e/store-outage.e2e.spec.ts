import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import pg from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { IdempotencyRecord, TypeOrmIdempotencyStore } from '../../lib/index.js';
import { ADAPTERS, bootApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startPostgres, type PostgresServer } from '../../tools/postgres-server.js';
import { Executions } from '../fixtures/executions.js';
import { FixtureModule } from '../fixtures/fixture.module.js';
import { Gate } from '../fixtures/gate.js';

const PROBLEM_JSON = /^application\/problem\+json/;
let keySequence = 0;
const newKey = () => `outage-${process.pid}-${++keySequence}`;

/**
 * The idempotency records live on a PostgreSQL server of their own, which the
 * spec stops halfway: a real network failure (connections closed by the
 * server, then refused), not a mocked store. Handler executions are counted
 * in the test database on the shared server, which stays reachable.
 *
 * The store server is up for the first two tests; the second stops it while
 * a request is in flight.
 */
describe.each(ADAPTERS)('idempotency store outage (%s)', (adapter) => {
  let database: TestDatabase;
  let storeServer: PostgresServer;
  let storeSource: DataSource;
  let failClosed: INestApplication;
  let failOpen: INestApplication;
  let executions: Executions;

  const storedRecords = async (key: string): Promise<number> => {
    const [row] = await storeSource.query('SELECT count(*)::int AS n FROM idempotency_records WHERE key = $1', [key]);
    return row.n;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    storeServer = await startPostgres();
    storeSource = new DataSource({
      type: 'postgres',
      url: storeServer.url,
      entities: [IdempotencyRecord],
      synchronize: true,
      logging: false,
    });
    await storeSource.initialize();
    const store = new TypeOrmIdempotencyStore(storeSource);
    failClosed = await bootApp(adapter, [FixtureModule.forRoot(database.url, { store })]);
    failOpen = await bootApp(adapter, [FixtureModule.forRoot(database.url, { store, failOpen: true })]);
    await failClosed.get(DataSource).query(Executions.ddl);
    executions = failClosed.get(Executions);
  });

  afterAll(async () => {
    await failClosed?.close();
    await failOpen?.close();
    await storeSource?.destroy();
    await storeServer?.stop();
    await database?.drop();
  });

  it('keeps its records on the store server while that server is up', async () => {
    const key = newKey();
    const before = await executions.count('orders');
    const first = await request(failClosed.getHttpServer()).post('/orders').set('Idempotency-Key', key).send({});
    const retry = await request(failClosed.getHttpServer()).post('/orders').set('Idempotency-Key', key).send({});
    expect(first.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(await storedRecords(key)).toBe(1);
    expect(await executions.count('orders')).toBe(before + 1);
  });

  it('still sends the response of a handler whose store goes down after its claim', async () => {
    const key = newKey();
    const gate = failClosed.get(Gate);
    const held = request(failClosed.getHttpServer()).post('/slow').set('Idempotency-Key', key).send({}).then((r) => r);
    await gate.arrived(1);
    expect(await storedRecords(key)).toBe(1); // claimed on the store server

    await storeServer.stop();
    // A network failure: the server's port no longer accepts connections.
    await expect(new pg.Client({ connectionString: storeServer.url }).connect()).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    gate.open();

    const response = await held;
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ execution: expect.any(Number) });
    expect(await executions.count('slow')).toBe(1);
  });

  describe('while the store server is down', () => {
    beforeAll(() => storeServer.stop()); // already stopped above, unless that test was filtered out

    it('answers 503 problem+json with Retry-After and does not run the handler', async () => {
      const key = newKey();
      const before = await executions.count('orders');
      for (let attempt = 0; attempt < 3; attempt++) {
        const response = await request(failClosed.getHttpServer()).post('/orders').set('Idempotency-Key', key).send({});
        expect(response.status).toBe(503);
        expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
        expect(response.headers['retry-after']).toMatch(/^[1-9]\d*$/);
        expect(response.body).toMatchObject({ status: 503, type: 'urn:nestjs-idempotency:store-unavailable' });
      }
      expect(await executions.count('orders')).toBe(before);
    });

    it('runs the handler unprotected, every time, with failOpen: true', async () => {
      const key = newKey();
      const before = await executions.count('orders');
      const first = await request(failOpen.getHttpServer()).post('/orders').set('Idempotency-Key', key).send({});
      const retry = await request(failOpen.getHttpServer()).post('/orders').set('Idempotency-Key', key).send({});
      expect([first.status, retry.status]).toEqual([201, 201]);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
      expect(retry.body.execution).not.toBe(first.body.execution);
      expect(await executions.count('orders')).toBe(before + 2);
    });
  });
});
