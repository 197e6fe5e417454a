import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { bootApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startPostgresWireCounter, type PostgresWireCounter } from '../support/postgres-wire-counter.js';
import { ATOMIC_DDL, AtomicAppModule } from './atomic-app.js';

let keySequence = 0;
const newKey = () => `atomic-round-trip-${++keySequence}`;

// What atomic mode sends, as simple queries of several statements each: EXECUTEs of statements prepared once per connection.
const BEGIN_AND_CLAIM = /^BEGIN ISOLATION LEVEL READ COMMITTED;\s+EXECUTE nestjs_idempotency_claimAtomic_\w+\([^;]*\)$/s;
const HANDLER_INSERT = /^INSERT INTO atomic_orders/;
const COMPLETE_AND_COMMIT = /^EXECUTE nestjs_idempotency_complete_\w+\(.*\);\s*COMMIT$/s;
const PREPARE = /^PREPARE nestjs_idempotency_(claimAtomic|claimAtomicWaiting|complete|completeAnnounced)_\w+ AS /;

/** Round trips of atomic mode on PostgreSQL, counted on the wire (DESIGN.md §9: BEGIN+claim, the handler's, complete+COMMIT). */
describe('round trips of atomic mode on PostgreSQL', () => {
  let database: TestDatabase;
  let wire: PostgresWireCounter;
  let app: INestApplication;
  const post = (key: string, item: string) => request(app.getHttpServer()).post('/atomic/orders').set('Idempotency-Key', key).send({ item });

  beforeAll(async () => {
    database = await createTestDatabase();
    wire = await startPostgresWireCounter(database.url);
    // One connection: the statements it prepares are counted once, in the first test.
    app = await bootApp('express', [AtomicAppModule.forRoot(wire.url, {}, 1)]);
    for (const statement of ATOMIC_DDL) await app.get(DataSource).query(statement);
  });

  afterAll(async () => {
    await app?.close();
    await wire?.close();
    await database?.drop();
  });

  beforeEach(() => wire.reset());

  it('prepares the claims and the completions once per connection', async () => {
    expect((await post(newKey(), 'prepared')).status).toBe(201);
    expect(wire.roundTrips.slice(0, 4)).toEqual(Array.from({ length: 4 }, () => expect.stringMatching(PREPARE)));
    wire.reset();
    expect((await post(newKey(), 'prepared')).status).toBe(201);
    expect(wire.roundTrips.filter((trip) => PREPARE.test(trip))).toEqual([]);
  });

  it('costs 3 for a first execution: BEGIN with the claim, the handler’s insert, the completion with COMMIT (one commit)', async () => {
    expect((await post(newKey(), 'round-trips')).status).toBe(201);
    expect(wire.roundTrips).toEqual([
      expect.stringMatching(BEGIN_AND_CLAIM),
      expect.stringMatching(HANDLER_INSERT),
      expect.stringMatching(COMPLETE_AND_COMMIT),
    ]);
  });

  it('costs 2 for a replay: BEGIN with the claim that finds the completed record, ROLLBACK', async () => {
    const key = newKey();
    const first = await post(key, 'replayed');
    wire.reset();
    const replay = await post(key, 'replayed');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.text).toBe(first.text);
    expect(wire.roundTrips).toEqual([expect.stringMatching(BEGIN_AND_CLAIM), 'ROLLBACK']);
  });
});
