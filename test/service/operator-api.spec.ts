import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Controller, type INestApplication, Param, Post, UseGuards } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  type FoundRecord,
  IdempotencyConfigurationError,
  IdempotencyKeyInFlightException,
  IdempotencyModule,
  IdempotencyRecord,
  IdempotencyService,
  type IdempotencyRecordId,
  type IdempotencyStore,
  Idempotent,
  InMemoryIdempotencyStore,
  InvalidIdempotencyKeyException,
  TypeOrmIdempotencyStore,
} from '../../lib/index.js';
import { ADAPTERS, bootApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startPostgresWireCounter, type PostgresWireCounter } from '../support/postgres-wire-counter.js';
import { UserGuard } from '../fixtures/user.guard.js';

let keySequence = 0;
const newKey = () => `operator-key-${++keySequence}`;

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

/**
 * The PostgreSQL store, with a hook that runs after `find()` read the record
 * and before it answers: the window between a forget's read and its release.
 */
class PausingStore extends TypeOrmIdempotencyStore {
  afterFind?: () => Promise<void>;

  override async find(id: IdempotencyRecordId): Promise<FoundRecord | null> {
    const found = await super.find(id);
    const hook = this.afterFind;
    this.afterFind = undefined;
    await hook?.();
    return found;
  }
}

describe('IdempotencyService operator API (lookup, forget) on PostgreSQL', () => {
  let database: TestDatabase;
  let moduleRef: TestingModule;
  let service: IdempotencyService;
  let store: PausingStore;
  let wire: PostgresWireCounter;

  beforeAll(async () => {
    database = await createTestDatabase();
    wire = await startPostgresWireCounter(database.url);
    moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: wire.url, entities: [IdempotencyRecord], synchronize: true }),
        IdempotencyModule.forRootAsync({
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => ({ store: (store = new PausingStore(dataSource)), ttl: 60_000 }),
        }),
      ],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    service = moduleRef.get(IdempotencyService);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await wire?.close();
    await database?.drop();
  });

  it('looks up nothing and forgets nothing for a key never used', async () => {
    const key = newKey();
    await expect(service.lookup(key)).resolves.toBeNull();
    await expect(service.lookup(key, { scope: 'payments', principal: 'alice' })).resolves.toBeNull();
    await expect(service.forget(key)).resolves.toBe(false);
  });

  it('looks up the record of an execute(): completed, status 200, its fingerprint and expiry', async () => {
    const key = newKey();
    const before = Date.now();
    await service.execute(key, () => ({ ok: true }), { scope: 'payments', principal: 'alice', fingerprint: 'fp-1', ttl: 30_000 });
    const info = await service.lookup(key, { scope: 'payments', principal: 'alice' });
    expect(info).toEqual({
      status: 'completed',
      expiresAt: expect.any(Date),
      responseStatus: 200,
      fingerprint: 'fp-1',
      fence: expect.any(String),
    });
    expect(info!.expiresAt.getTime()).toBeGreaterThan(before);
    expect(info!.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 30_000);
    // Another scope or principal is another record.
    await expect(service.lookup(key, { principal: 'alice' })).resolves.toBeNull();
    await expect(service.lookup(key, { scope: 'payments' })).resolves.toBeNull();
  });

  it('forgets a completed record, so the retry runs the operation again', async () => {
    const key = newKey();
    const operation = jest.fn(async () => ({ run: operation.mock.calls.length }));
    await expect(service.execute(key, operation, { scope: 'payments' })).resolves.toEqual({ run: 1 });
    await expect(service.execute(key, operation, { scope: 'payments' })).resolves.toEqual({ run: 1 });

    await expect(service.forget(key, { scope: 'payments' })).resolves.toBe(true);
    await expect(service.lookup(key, { scope: 'payments' })).resolves.toBeNull();
    await expect(service.execute(key, operation, { scope: 'payments' })).resolves.toEqual({ run: 2 });
    expect(operation).toHaveBeenCalledTimes(2);
    await expect(service.forget(key)).resolves.toBe(false); // scope 'default': not this record
  });

  it('refuses to forget a record in flight unless told inFlight, then the retry runs while the original is fenced out', async () => {
    const key = newKey();
    const started = deferred();
    const finish = deferred();
    const original = service.execute(
      key,
      async () => {
        started.resolve();
        await finish.promise;
        return 'original';
      },
      { fingerprint: 'fp-original', lockTimeout: 20_000 },
    );
    await started.promise;

    const info = await service.lookup(key);
    expect(info).toMatchObject({ status: 'processing', responseStatus: null, fingerprint: 'fp-original' });
    expect(info!.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 20_000);
    const refusal = await service.forget(key).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(IdempotencyKeyInFlightException);
    expect((refusal as IdempotencyKeyInFlightException).getStatus()).toBe(409);
    // Still the same record (expiresAt is recomputed on this clock at each lookup).
    await expect(service.lookup(key)).resolves.toMatchObject({ status: 'processing', fence: info!.fence });

    await expect(service.forget(key, { inFlight: true })).resolves.toBe(true);
    await expect(service.execute(key, () => 'retry', { fingerprint: 'fp-retry' })).resolves.toBe('retry');
    finish.resolve();
    await expect(original).resolves.toBe('original');
    // The original's completion lost the fence: the record is the retry's.
    await expect(service.lookup(key)).resolves.toMatchObject({ status: 'completed', fingerprint: 'fp-retry' });
    await expect(service.execute(key, () => 'third', { fingerprint: 'fp-retry' })).resolves.toBe('retry');
  });

  it('does not delete a record claimed again between its read and its release', async () => {
    const key = newKey();
    await service.execute(key, () => 'first');
    store.afterFind = async () => {
      // Meanwhile: someone else forgets the record and the customer's retry completes anew.
      await expect(service.forget(key)).resolves.toBe(true);
      await expect(service.execute(key, () => 'second')).resolves.toBe('second');
    };
    await expect(service.forget(key)).resolves.toBe(false);
    await expect(service.lookup(key)).resolves.toMatchObject({ status: 'completed', responseStatus: 200 });
    await expect(service.execute(key, () => 'third')).resolves.toBe('second');
  });

  it('forgets only the record of `fence`: not one that replaced it since the lookup', async () => {
    const key = newKey();
    await service.execute(key, () => 'first');
    const looked = await service.lookup(key);
    await service.forget(key);
    await service.execute(key, () => 'second');

    await expect(service.forget(key, { fence: looked!.fence })).resolves.toBe(false);
    const current = await service.lookup(key);
    expect(current!.fence).not.toBe(looked!.fence);
    await expect(service.forget(key, { fence: current!.fence })).resolves.toBe(true);
    await expect(service.lookup(key)).resolves.toBeNull();
  });

  it('looks up in one round trip (a SELECT) and forgets in two (the SELECT, the fenced DELETE)', async () => {
    const key = newKey();
    await service.execute(key, () => 'done');
    wire.reset();
    await service.lookup(key);
    expect(wire.roundTrips).toEqual([expect.stringMatching(/^\s*SELECT status, token/)]);
    wire.reset();
    await expect(service.forget(key)).resolves.toBe(true);
    expect(wire.roundTrips).toEqual([
      expect.stringMatching(/^\s*SELECT status, token/),
      expect.stringMatching(/^DELETE FROM "idempotency_records" WHERE .* AND token = \$4$/),
    ]);
  });

  it('throws InvalidIdempotencyKeyException for a key no record can have', async () => {
    await expect(service.lookup('')).rejects.toThrow(InvalidIdempotencyKeyException);
    await expect(service.forget('x'.repeat(256))).rejects.toThrow(InvalidIdempotencyKeyException);
  });
});

@Controller('orders')
@UseGuards(UserGuard)
class OrdersController {
  readonly runs: string[] = [];

  @Post(':region')
  @Idempotent()
  create(@Param('region') region: string) {
    this.runs.push(region);
    return { run: this.runs.length };
  }
}

describe.each(ADAPTERS)('IdempotencyService operator API on the record of an HTTP request (%s)', (adapter) => {
  let database: TestDatabase;
  let app: INestApplication;
  let service: IdempotencyService;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await bootApp(adapter, [
      TypeOrmModule.forRoot({ type: 'postgres', url: database.url, entities: [IdempotencyRecord], synchronize: true }),
      IdempotencyModule.forRoot(),
      { module: class OrdersModule {}, controllers: [OrdersController] },
    ]);
    service = app.get(IdempotencyService);
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  const order = (key: string) => request(app.getHttpServer()).post('/orders/eu').set('Idempotency-Key', key).set('X-User', 'alice');

  it("names the record by '<METHOD> <route pattern>' and the user id, and forgetting it lets the retry run", async () => {
    const key = newKey();
    const first = await order(key).expect(201);
    expect(first.body).toEqual({ run: 1 });
    await order(key).expect(201).expect('Idempotent-Replayed', 'true');

    const locator = { scope: 'POST /orders/:region', principal: 'alice' };
    await expect(service.lookup(key, locator)).resolves.toMatchObject({ status: 'completed', responseStatus: 201 });
    await expect(service.lookup(key, { scope: 'POST /orders/eu', principal: 'alice' })).resolves.toBeNull();
    await expect(service.lookup(key, { scope: 'POST /orders/:region' })).resolves.toBeNull();

    await expect(service.forget(key, locator)).resolves.toBe(true);
    const retry = await order(key).expect(201);
    expect(retry.body).toEqual({ run: 2 });
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });
});

describe('IdempotencyService operator API on a store without find()', () => {
  it('throws IdempotencyConfigurationError naming the fix', async () => {
    const memory = new InMemoryIdempotencyStore();
    const store: IdempotencyStore = {
      claim: (claim) => memory.claim(claim),
      complete: (id, token, response, ttl) => memory.complete(id, token, response, ttl),
      release: (id, token) => memory.release(id, token),
      extendLease: (id, token, lockTimeout) => memory.extendLease(id, token, lockTimeout),
      purgeExpired: (limit) => memory.purgeExpired(limit),
    };
    const moduleRef = await Test.createTestingModule({ imports: [IdempotencyModule.forRoot({ store })] }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    const service = moduleRef.get(IdempotencyService);
    await expect(service.lookup('k')).rejects.toThrow(IdempotencyConfigurationError);
    await expect(service.forget('k')).rejects.toThrow(/need a store with find\(\)/);
    await moduleRef.close();
  });
});
