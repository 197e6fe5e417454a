import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, type INestApplication, Post } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { Idempotent, IdempotencyModule, IdempotencyService, SqliteIdempotencyRecord } from '../../lib/index.js';
import { ADAPTERS, bootApp } from '../support/app.js';
import { EchoController } from '../fixtures/echo.controller.js';
import { Gate } from '../fixtures/gate.js';

let keySequence = 0;
const newKey = () => `sqlite-round-trip-${++keySequence}`;

// The statements of the SQLite dialect as better-sqlite3 reports them (parameters filled in).
const CLAIM = /^INSERT INTO "idempotency_records" \(scope, principal, "key"/;
const COMPLETE = /^UPDATE "idempotency_records"\s+SET status = 'completed'/;
const RELEASE = /^DELETE FROM "idempotency_records" WHERE scope = .* AND token = .* RETURNING 1$/;

/** A route held by the gate, with no database work of its own (the fixture's `slow` records to PostgreSQL). */
@Controller()
class SlowController {
  constructor(private readonly gate: Gate) {}

  @Post('slow')
  @Idempotent()
  async slow() {
    await this.gate.pass();
    return { done: true };
  }
}

/**
 * Counts the statements the app runs on SQLite per request: better-sqlite3
 * calls the DataSource's `verbose` option with every statement it executes.
 * The store is the module's default, on a better-sqlite3 DataSource: the
 * DataSource's type picks the SQLite dialect.
 */
describe.each(ADAPTERS)('statements on SQLite (better-sqlite3) per request (%s)', (adapter) => {
  const statements: string[] = [];
  let app: INestApplication;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await bootApp(adapter, [
      TypeOrmModule.forRoot({
        type: 'better-sqlite3',
        database: ':memory:',
        entities: [SqliteIdempotencyRecord],
        synchronize: true,
        verbose: (sql: unknown) => statements.push(String(sql)),
      }),
      IdempotencyModule.forRoot({ registerEntity: false }),
      { module: class EchoModule {}, controllers: [EchoController, SlowController], providers: [Gate] },
    ]);
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    statements.length = 0;
  });

  it('costs 2 statements for a first execution: claim, then complete', async () => {
    const response = await http().post('/echo').set('Idempotency-Key', newKey()).send({ n: 1 });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ n: 1 });
    expect(statements).toEqual([expect.stringMatching(CLAIM), expect.stringMatching(COMPLETE)]);
  });

  it('costs 1 statement for a replay: the claim that returns the completed record', async () => {
    const key = newKey();
    const first = await http().post('/echo').set('Idempotency-Key', key).send({ n: 2 });
    statements.length = 0;
    const replay = await http().post('/echo').set('Idempotency-Key', key).send({ n: 2 });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.text).toBe(first.text);
    expect(statements).toEqual([expect.stringMatching(CLAIM)]);
  });

  it('costs 1 statement for a 409 while the first request is in flight', async () => {
    const key = newKey();
    const gate = app.get(Gate);
    const held = http().post('/slow').set('Idempotency-Key', key).send({}).then((r) => r);
    await gate.arrived(1);
    statements.length = 0;
    const conflict = await http().post('/slow').set('Idempotency-Key', key).send({});
    const counted = [...statements];
    gate.open();
    expect((await held).status).toBe(201);
    expect(conflict.status).toBe(409);
    expect(counted).toEqual([expect.stringMatching(CLAIM)]);
  });

  it('costs 1 statement for a 422 when the key comes with another payload', async () => {
    const key = newKey();
    await http().post('/echo').set('Idempotency-Key', key).send({ n: 3 }).expect(201);
    statements.length = 0;
    expect((await http().post('/echo').set('Idempotency-Key', key).send({ n: 4 })).status).toBe(422);
    expect(statements).toEqual([expect.stringMatching(CLAIM)]);
  });

  it('costs 2 statements for a released 5xx outcome: claim, then release', async () => {
    const response = await http().post('/echo/fail').set('Idempotency-Key', newKey()).send({});
    expect(response.status).toBe(503);
    expect(statements).toEqual([expect.stringMatching(CLAIM), expect.stringMatching(RELEASE)]);
  });

  it('runs no statement for a request rejected for its missing key', async () => {
    expect((await http().post('/echo').send({})).status).toBe(400);
    expect(statements).toEqual([]);
  });

  it('costs 2 statements for a first IdempotencyService.execute() and 1 for its repeat', async () => {
    const service = app.get(IdempotencyService);
    const key = newKey();
    let runs = 0;
    const operation = async () => ({ run: ++runs });
    await expect(service.execute(key, operation, { scope: 'webhook' })).resolves.toEqual({ run: 1 });
    expect(statements).toEqual([expect.stringMatching(CLAIM), expect.stringMatching(COMPLETE)]);
    statements.length = 0;
    await expect(service.execute(key, operation, { scope: 'webhook' })).resolves.toEqual({ run: 1 });
    expect(statements).toEqual([expect.stringMatching(CLAIM)]);
    expect(runs).toBe(1);
  });
});
