import { afterAll, beforeAll, beforeEach, expect } from '@jest/globals';
import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { IdempotencyModule, MysqlIdempotencyRecord, TypeOrmIdempotencyStore } from '../../lib/index.js';
import { withoutInsertReturning } from '../../lib/stores/typeorm/mysql/mysql-server.js';
import { Executions } from '../fixtures/executions.js';
import { EchoController } from '../fixtures/echo.controller.js';
import { FixtureController, PaymentsController } from '../fixtures/fixture.controller.js';
import { Gate } from '../fixtures/gate.js';
import { UserGuard } from '../fixtures/user.guard.js';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { createMysqlDatabase, mysqlDescribe, type MysqlTestDatabase } from '../support/mariadb.js';
import { startMysqlWireCounter, type MysqlWireCounter } from '../support/mysql-wire-counter.js';
import { itCostsRoundTrips } from './round-trip-costs.js';

const describeWithMysql = await mysqlDescribe();

let keySequence = 0;
const newKey = () => `mysql-round-trip-${process.pid}-${++keySequence}`;

// The statements of the MySQL dialect, recognised by their text as sent (values inlined by mysql2).
const CLAIM_RETURNING = /^INSERT INTO `idempotency_records`[\s\S]*ON DUPLICATE KEY UPDATE[\s\S]*RETURNING fingerprint, status, token,/;
const CLAIM_UPSERT = /^(?![\s\S]*RETURNING)INSERT INTO `idempotency_records`[\s\S]*ON DUPLICATE KEY UPDATE/;
const READ_RECORD = /^SELECT fingerprint, status, token, [\s\S]* FROM `idempotency_records` WHERE scope = X'/;
const COMPLETE = /^UPDATE `idempotency_records`\s+SET status = 'completed'/;
const RELEASE = /^DELETE FROM `idempotency_records` WHERE scope = [\s\S]* AND token = '/;

/** How a store claims: MariaDB's one statement, or the MySQL path (forced on MariaDB). */
type ClaimPath = 'INSERT ... RETURNING' | 'upsert then SELECT';

/** The round trips of one claim, per path. */
const CLAIM_TRIPS: Record<ClaimPath, RegExp[]> = {
  'INSERT ... RETURNING': [CLAIM_RETURNING],
  'upsert then SELECT': [CLAIM_UPSERT, READ_RECORD],
};

/** The fixture app on MariaDB at `url`: the fixture controllers, with no database work of their own. */
@Module({})
class MysqlRoundTripModule {
  static forRoot(url: string, path: ClaimPath): DynamicModule {
    return {
      module: MysqlRoundTripModule,
      imports: [
        TypeOrmModule.forRoot({ type: 'mariadb', url, entities: [MysqlIdempotencyRecord], synchronize: true }),
        path === 'INSERT ... RETURNING'
          ? IdempotencyModule.forRoot({ registerEntity: false }) // entities listed above; `entity` is refused today (see the report)
          : IdempotencyModule.forRootAsync({
              registerEntity: false,
              inject: [DataSource],
              useFactory: (dataSource: DataSource) => ({ store: new TypeOrmIdempotencyStore(dataSource, withoutInsertReturning()) }),
            }),
      ],
      controllers: [FixtureController, EchoController, PaymentsController],
      // `/slow` records its execution after its gate: a no-op here, so every round trip counted is the library's.
      providers: [{ provide: Executions, useValue: { record: async () => 0 } }, Gate, { provide: APP_GUARD, useClass: UserGuard }],
    };
  }
}

const CASES = ADAPTERS.flatMap((adapter) =>
  (Object.keys(CLAIM_TRIPS) as ClaimPath[]).map((path): [AdapterName, ClaimPath] => [adapter, path]),
);

/**
 * Counts the commands the app sends to MariaDB per request, on the wire:
 * the app's DataSource (and so the store's lease lane) connects through a
 * proxy that reads the MySQL client protocol. The routes used do no
 * database work of their own.
 */
describeWithMysql.each(CASES)('round trips to MariaDB per request (%s, %s)', (adapter, path) => {
  let database: MysqlTestDatabase;
  let wire: MysqlWireCounter;
  let app: INestApplication;

  beforeAll(async () => {
    database = await createMysqlDatabase();
    wire = await startMysqlWireCounter(database.url);
    app = await bootApp(adapter, [MysqlRoundTripModule.forRoot(wire.url, path)]);
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
    claim: CLAIM_TRIPS[path].map((pattern) => expect.stringMatching(pattern)),
    complete: COMPLETE,
    release: RELEASE,
    newKey,
  });
});
