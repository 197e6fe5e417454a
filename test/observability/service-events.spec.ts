import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  IdempotencyKeyInFlightException,
  IdempotencyKeyReusedException,
  IdempotencyModule,
  IdempotencyRecord,
  IdempotencyService,
  IdempotencyStoreConnectionError,
  IdempotencyStoreUnavailableException,
  InMemoryIdempotencyStore,
  type ClaimRequest,
  type ClaimResult,
} from '../../lib/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { EventRecorder, expectedEvent } from './support/event-recorder.js';

let keySequence = 0;
const newKey = () => `service-events-${process.pid}-${++keySequence}`;
const service = (scope: string, key: string, principal = '') => ({ scope, key, principal, transport: 'service' as const });

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('events of every decision of IdempotencyService.execute() (PostgreSQL store)', () => {
  let database: TestDatabase;
  let moduleRef: TestingModule;
  let idempotency: IdempotencyService;
  let dataSource: DataSource;
  const recorder = new EventRecorder();

  beforeAll(async () => {
    database = await createTestDatabase();
    moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: database.url, entities: [IdempotencyRecord], synchronize: true }),
        IdempotencyModule.forRootAsync({ useFactory: () => ({ onEvent: recorder.listener }) }),
      ],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    idempotency = moduleRef.get(IdempotencyService);
    dataSource = moduleRef.get(DataSource);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await database?.drop();
  });

  it('first call: claimed, completed (status 200); repeat: replayed', async () => {
    const key = newKey();
    await idempotency.execute(key, () => ({ paid: true }), { scope: 'payments', principal: 'tenant-7' });
    await idempotency.execute(key, () => ({ paid: true }), { scope: 'payments', principal: 'tenant-7' });
    const record = service('payments', key, 'tenant-7');
    expect(recorder.of(key)).toEqual([
      expectedEvent('claimed', record),
      expectedEvent('completed', record, { status: 200 }),
      expectedEvent('replayed', record, { status: 200 }),
    ]);
  });

  it('a call while the first runs: conflict', async () => {
    const key = newKey();
    const running = deferred();
    const started = deferred();
    const first = idempotency.execute(
      key,
      () => {
        started.resolve();
        return running.promise;
      },
      { scope: 'jobs' },
    );
    await started.promise;
    await expect(idempotency.execute(key, () => undefined, { scope: 'jobs' })).rejects.toBeInstanceOf(IdempotencyKeyInFlightException);
    running.resolve();
    await first;
    const record = service('jobs', key);
    expect(recorder.of(key)).toEqual([
      expectedEvent('claimed', record),
      expectedEvent('conflict', record),
      expectedEvent('completed', record, { status: 200 }),
    ]);
  });

  it('same key with another fingerprint: mismatch', async () => {
    const key = newKey();
    await idempotency.execute(key, () => 1, { fingerprint: 'a' });
    await expect(idempotency.execute(key, () => 2, { fingerprint: 'b' })).rejects.toBeInstanceOf(IdempotencyKeyReusedException);
    expect(recorder.of(key).map((event) => event.type)).toEqual(['claimed', 'completed', 'mismatch']);
    expect(recorder.of(key)[2]).toEqual(expectedEvent('mismatch', service('default', key)));
  });

  it('the operation throws: released', async () => {
    const key = newKey();
    await expect(
      idempotency.execute(key, () => {
        throw new Error('declined');
      }),
    ).rejects.toThrow('declined');
    expect(recorder.of(key)).toEqual([expectedEvent('claimed', service('default', key)), expectedEvent('released', service('default', key))]);
  });

  it('an operator forgets a key: forgotten, then the retry runs (claimed, completed); nothing to forget: no event', async () => {
    const key = newKey();
    const record = service('refunds', key, 'tenant-3');
    await idempotency.execute(key, () => 'refunded', { scope: 'refunds', principal: 'tenant-3' });
    expect(await idempotency.forget(key, { scope: 'refunds', principal: 'tenant-3' })).toBe(true);
    await idempotency.execute(key, () => 'refunded again', { scope: 'refunds', principal: 'tenant-3' });
    expect(await idempotency.forget(key, { scope: 'refunds', principal: 'another-tenant' })).toBe(false);
    expect(recorder.of(key)).toEqual([
      expectedEvent('claimed', record),
      expectedEvent('completed', record, { status: 200 }),
      expectedEvent('forgotten', record),
      expectedEvent('claimed', record),
      expectedEvent('completed', record, { status: 200 }),
    ]);
  });

  it('a lapsed lease: taken over by the next call; the stalled first cannot complete', async () => {
    const key = newKey();
    const stalled = deferred();
    const started = deferred();
    const first = idempotency.execute(key, () => {
      started.resolve();
      return stalled.promise.then(() => 'first');
    });
    await started.promise;
    await dataSource.query(
      "UPDATE idempotency_records SET locked_until = now() - interval '1 second', expires_at = now() - interval '1 second' WHERE key = $1",
      [key],
    );
    expect(await idempotency.execute(key, () => 'second')).toBe('second');
    stalled.resolve();
    expect(await first).toBe('first');
    const record = service('default', key);
    expect(recorder.of(key)).toEqual([
      expectedEvent('claimed', record),
      expectedEvent('lease-taken-over', record),
      expectedEvent('completed', record, { status: 200 }),
      expectedEvent('completion-failed', record),
    ]);
  });

  it('atomic mode: claimed and completed in the transaction; a throw is released (rolled back)', async () => {
    const done = newKey();
    const failed = newKey();
    await idempotency.execute(done, () => 'ok', { atomic: true });
    await expect(
      idempotency.execute(
        failed,
        () => {
          throw new Error('rolled back');
        },
        { atomic: true },
      ),
    ).rejects.toThrow('rolled back');
    expect(recorder.of(done)).toEqual([expectedEvent('claimed', service('default', done)), expectedEvent('completed', service('default', done), { status: 200 })]);
    expect(recorder.of(failed)).toEqual([expectedEvent('claimed', service('default', failed)), expectedEvent('released', service('default', failed))]);
  });

  it('atomic mode: a lapsed lease taken over inside the transaction', async () => {
    const key = newKey();
    await dataSource.query(
      "INSERT INTO idempotency_records (scope, principal, key, fingerprint, status, token, locked_until, expires_at) VALUES ('default', '', $1, '', 'processing', gen_random_uuid(), now() - interval '1 second', now() - interval '1 second')",
      [key],
    );
    await idempotency.execute(key, () => 'ok', { atomic: true });
    expect(recorder.of(key).map((event) => event.type)).toEqual(['lease-taken-over', 'completed']);
  });
});

/** An in-memory store whose backend is down: each claim fails as a connection failure. */
class UnreachableStore extends InMemoryIdempotencyStore {
  override async claim(_request: ClaimRequest): Promise<ClaimResult> {
    throw new IdempotencyStoreConnectionError('connect ECONNREFUSED 127.0.0.1:1');
  }
}

describe('events of IdempotencyService.execute() with an unreachable store', () => {
  let moduleRef: TestingModule;
  let idempotency: IdempotencyService;
  const recorder = new EventRecorder();

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [IdempotencyModule.forRoot({ store: new UnreachableStore(), onEvent: recorder.listener })],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    idempotency = moduleRef.get(IdempotencyService);
  });

  afterAll(() => moduleRef?.close());

  it('store-error, thrown as unavailable; with failOpen, run unprotected', async () => {
    const closed = newKey();
    const open = newKey();
    await expect(idempotency.execute(closed, () => 1)).rejects.toBeInstanceOf(IdempotencyStoreUnavailableException);
    expect(await idempotency.execute(open, () => 2, { failOpen: true })).toBe(2);
    const error = expect.any(IdempotencyStoreConnectionError);
    expect(recorder.of(closed)).toEqual([expectedEvent('store-error', service('default', closed), { error, failedOpen: false })]);
    expect(recorder.of(open)).toEqual([expectedEvent('store-error', service('default', open), { error, failedOpen: true })]);
  });
});
