import { afterAll, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { IdempotencyModule, MysqlIdempotencyRecord, TypeOrmIdempotencyStore } from '../../lib/index.js';
import { withoutInsertReturning } from '../../lib/stores/typeorm/mysql/mysql-server.js';
import { Executions } from '../fixtures/executions.js';
import { FixtureController, PaymentsController } from '../fixtures/fixture.controller.js';
import { Gate } from '../fixtures/gate.js';
import { UserGuard } from '../fixtures/user.guard.js';
import { ADAPTERS, bootApp, type AdapterName } from '../support/app.js';
import { createMysqlDatabase, mysqlDescribe, type MysqlTestDatabase } from '../support/mariadb.js';
import { startMysqlWireCounter, type MysqlWireCounter } from '../support/mysql-wire-counter.js';

const describeWithMysql = await mysqlDescribe();

let keySequence = 0;
const newKey = () => `mysql-round-trip-${process.pid}-${++keySequence}`;
const trips = (count: number) => `${count} round trip${count === 1 ? '' : 's'}`;

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
      controllers: [FixtureController, PaymentsController],
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
  const http = () => request(app.getHttpServer());
  const claim = CLAIM_TRIPS[path].map((pattern) => expect.stringMatching(pattern));

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

  it(`costs ${trips(claim.length + 1)} for a first execution: claim, then complete`, async () => {
    const response = await http().post('/echo').set('Idempotency-Key', newKey()).send({ n: 1 });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ n: 1 });
    expect(wire.roundTrips).toEqual([...claim, expect.stringMatching(COMPLETE)]);
  });

  it(`costs ${trips(claim.length)} for a replay: the claim that finds the completed record`, async () => {
    const key = newKey();
    const first = await http().post('/echo').set('Idempotency-Key', key).send({ n: 2 });
    wire.reset();
    const replay = await http().post('/echo').set('Idempotency-Key', key).send({ n: 2 });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.text).toBe(first.text);
    expect(wire.roundTrips).toEqual(claim);
  });

  it(`costs ${trips(claim.length)} for a 409 while the first request is in flight`, async () => {
    const key = newKey();
    const gate = app.get(Gate);
    const held = http().post('/slow').set('Idempotency-Key', key).send({}).then((r) => r);
    await gate.arrived(1); // its claim is done; it does no database work until the gate opens
    wire.reset();
    const conflict = await http().post('/slow').set('Idempotency-Key', key).send({});
    const sent = [...wire.roundTrips];
    gate.open();
    expect((await held).status).toBe(201);
    expect(conflict.status).toBe(409);
    expect(sent).toEqual(claim);
  });

  it(`costs ${trips(claim.length)} for a 422 when the key comes with another payload`, async () => {
    const key = newKey();
    await http().post('/echo').set('Idempotency-Key', key).send({ n: 3 }).expect(201);
    wire.reset();
    const mismatch = await http().post('/echo').set('Idempotency-Key', key).send({ n: 4 });
    expect(mismatch.status).toBe(422);
    expect(wire.roundTrips).toEqual(claim);
  });

  it(`costs ${trips(claim.length + 1)} for a released 5xx outcome: claim, then release`, async () => {
    const key = newKey();
    const failure = await http().post('/echo/fail').set('Idempotency-Key', key).send({});
    expect(failure.status).toBe(503);
    expect(wire.roundTrips).toEqual([...claim, expect.stringMatching(RELEASE)]);

    wire.reset();
    const retry = await http().post('/echo/fail').set('Idempotency-Key', key).send({});
    expect(retry.status).toBe(503);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(wire.roundTrips).toEqual([...claim, expect.stringMatching(RELEASE)]);
  });

  it('sends nothing to the database for a request rejected for its missing key', async () => {
    const response = await http().post('/echo').send({});
    expect(response.status).toBe(400);
    expect(wire.roundTrips).toEqual([]);
  });
});
