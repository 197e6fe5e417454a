import { afterAll, beforeAll, beforeEach, describe, expect } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ADAPTERS, bootApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startPostgresWireCounter, type PostgresWireCounter } from '../support/postgres-wire-counter.js';
import { Executions } from '../fixtures/executions.js';
import { FixtureModule } from '../fixtures/fixture.module.js';
import { itCostsRoundTrips } from './round-trip-costs.js';

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

  itCostsRoundTrips({
    app: () => app,
    wire: () => wire,
    claim: [expect.stringMatching(CLAIM)],
    complete: COMPLETE,
    release: RELEASE,
    newKey,
  });
});
