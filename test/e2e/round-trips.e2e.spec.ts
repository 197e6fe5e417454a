import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { ADAPTERS, bootApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startPostgresWireCounter, type PostgresWireCounter } from '../support/postgres-wire-counter.js';
import { Executions } from '../fixtures/executions.js';
import { FixtureModule } from '../fixtures/fixture.module.js';
import { Gate } from '../fixtures/gate.js';

let keySequence = 0;
const newKey = () => `round-trip-${process.pid}-${++keySequence}`;

// The statements of the TypeORM store, recognised by their first lines.
const CLAIM = /^WITH inserted AS \(\s+INSERT INTO "idempotency_records"/;
const COMPLETE = /^UPDATE "idempotency_records"\s+SET status = 'completed'/;
const RELEASE = /^DELETE FROM "idempotency_records" WHERE .* AND token = \$4$/;

/**
 * Counts the round trips the app sends to PostgreSQL per request, on the
 * wire: the app's DataSource connects through a proxy that parses the
 * PostgreSQL frontend protocol. The routes used here (`/echo`, `/echo/fail`,
 * `/slow` until its gate opens) do no database work of their own, so every
 * round trip counted is the library's: no BEGIN/COMMIT, no extra SELECT.
 */
describe.each(ADAPTERS)('round trips to PostgreSQL per request (%s)', (adapter) => {
  let database: TestDatabase;
  let wire: PostgresWireCounter;
  let app: INestApplication;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    database = await createTestDatabase();
    wire = await startPostgresWireCounter(database.url);
    app = await bootApp(adapter, [FixtureModule.forRoot(wire.url)]);
    await app.get(DataSource).query(Executions.ddl); // `/slow` records its execution once its gate opens
  });

  afterAll(async () => {
    await app?.close();
    await wire?.close();
    await database?.drop();
  });

  beforeEach(() => wire.reset());

  it('costs 2 round trips for a first execution: claim, then complete', async () => {
    const response = await http().post('/echo').set('Idempotency-Key', newKey()).send({ n: 1 });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ n: 1 });
    expect(wire.roundTrips).toEqual([expect.stringMatching(CLAIM), expect.stringMatching(COMPLETE)]);
  });

  it('costs 1 round trip for a replay: the claim that finds the completed record', async () => {
    const key = newKey();
    const first = await http().post('/echo').set('Idempotency-Key', key).send({ n: 2 });
    wire.reset();
    const replay = await http().post('/echo').set('Idempotency-Key', key).send({ n: 2 });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.text).toBe(first.text);
    expect(wire.roundTrips).toEqual([expect.stringMatching(CLAIM)]);
  });

  it('costs 1 round trip for a 409 while the first request is in flight', async () => {
    const key = newKey();
    const gate = app.get(Gate);
    const held = http().post('/slow').set('Idempotency-Key', key).send({}).then((r) => r);
    await gate.arrived(1); // its claim is done; it does no database work until the gate opens
    wire.reset();
    const conflict = await http().post('/slow').set('Idempotency-Key', key).send({});
    const trips = [...wire.roundTrips];
    gate.open();
    expect((await held).status).toBe(201);
    expect(conflict.status).toBe(409);
    expect(trips).toEqual([expect.stringMatching(CLAIM)]);
  });

  it('costs 1 round trip for a 422 when the key comes with another payload', async () => {
    const key = newKey();
    await http().post('/echo').set('Idempotency-Key', key).send({ n: 3 }).expect(201);
    wire.reset();
    const mismatch = await http().post('/echo').set('Idempotency-Key', key).send({ n: 4 });
    expect(mismatch.status).toBe(422);
    expect(wire.roundTrips).toEqual([expect.stringMatching(CLAIM)]);
  });

  it('costs 2 round trips for a released 5xx outcome: claim, then release', async () => {
    const key = newKey();
    const failure = await http().post('/echo/fail').set('Idempotency-Key', key).send({});
    expect(failure.status).toBe(503);
    expect(failure.body.message).toBe('echo failed');
    expect(wire.roundTrips).toEqual([expect.stringMatching(CLAIM), expect.stringMatching(RELEASE)]);

    wire.reset();
    const retry = await http().post('/echo/fail').set('Idempotency-Key', key).send({});
    expect(retry.status).toBe(503);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(wire.roundTrips).toEqual([expect.stringMatching(CLAIM), expect.stringMatching(RELEASE)]);
  });

  it('sends nothing to the database for a request rejected for its missing key', async () => {
    const response = await http().post('/echo').send({});
    expect(response.status).toBe(400);
    expect(wire.roundTrips).toEqual([]);
  });
});
