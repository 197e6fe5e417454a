import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  IdempotencyKeyInFlightException,
  IdempotencyKeyReusedException,
  IdempotencyModule,
  IdempotencyRecord,
  IdempotencyConfigurationError,
  IdempotencyService,
  InvalidIdempotencyKeyException,
} from '../../lib/index.js';
import { PURGE_BATCH_SIZE } from '../../lib/idempotency.internal-constants.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let keySequence = 0;
const newKey = () => `service-key-${++keySequence}`;

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

describe('IdempotencyService.execute() with the default TypeORM store', () => {
  let database: TestDatabase;
  let moduleRef: TestingModule;
  let service: IdempotencyService;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: database.url, entities: [IdempotencyRecord], synchronize: true }),
        IdempotencyModule.forRoot(),
      ],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    service = moduleRef.get(IdempotencyService);
    dataSource = moduleRef.get(DataSource);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await database?.drop();
  });

  it('runs the operation once and returns its stored result to a repeat', async () => {
    const key = newKey();
    const operation = jest.fn(async () => ({ orderId: 42, lines: ['book', 'pen'] }));
    const first = await service.execute(key, operation);
    const repeat = await service.execute(key, operation);
    expect(first).toEqual({ orderId: 42, lines: ['book', 'pen'] });
    expect(repeat).toEqual(first);
    expect(operation).toHaveBeenCalledTimes(1);
    const [row] = await dataSource.query('SELECT status FROM idempotency_records WHERE key = $1', [key]);
    expect(row).toEqual({ status: 'completed' });
  });

  it('returns the JSON round trip of the result to a repeat, and undefined for undefined', async () => {
    const date = new Date('2026-11-23T10:00:00.000Z');
    const key = newKey();
    await service.execute(key, () => ({ at: date }));
    await expect(service.execute(key, () => ({ at: 'never run' }))).resolves.toEqual({ at: date.toISOString() });
    const voidKey = newKey();
    const operation = jest.fn(() => undefined);
    await service.execute(voidKey, operation);
    await expect(service.execute(voidKey, operation)).resolves.toBeUndefined();
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('throws IdempotencyKeyInFlightException while the first call still runs, then returns its result', async () => {
    const key = newKey();
    const started = deferred();
    const finish = deferred<string>();
    const first = service.execute(key, () => {
      started.resolve();
      return finish.promise;
    });
    await started.promise;
    const second = jest.fn(() => 'second');
    const error = await service.execute(key, second).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(IdempotencyKeyInFlightException);
    // Retry-After: the rest of the default 60 s lease, in whole seconds.
    expect((error as IdempotencyKeyInFlightException).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((error as IdempotencyKeyInFlightException).retryAfterSeconds).toBeLessThanOrEqual(60);
    finish.resolve('first');
    await expect(first).resolves.toBe('first');
    await expect(service.execute(key, second)).resolves.toBe('first');
    expect(second).not.toHaveBeenCalled();
  });

  it('throws IdempotencyKeyReusedException when the key comes with another fingerprint', async () => {
    const key = newKey();
    const operation = jest.fn(() => 'done');
    await service.execute(key, operation, { fingerprint: 'event-v1' });
    await expect(service.execute(key, operation, { fingerprint: 'event-v2' })).rejects.toBeInstanceOf(
      IdempotencyKeyReusedException,
    );
    await expect(service.execute(key, operation, { fingerprint: 'event-v1' })).resolves.toBe('done');
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('rethrows the error of the operation and releases the key, so the next call runs again', async () => {
    const key = newKey();
    const failure = new Error('payment provider down');
    await expect(service.execute(key, () => Promise.reject(failure))).rejects.toBe(failure);
    const retry = jest.fn(() => 'paid');
    await expect(service.execute(key, retry)).resolves.toBe('paid');
    expect(retry).toHaveBeenCalledTimes(1);
  });

  it('keeps records of another scope or another principal separate', async () => {
    const key = newKey();
    const calls: string[] = [];
    const run = (label: string, options: { scope?: string; principal?: string }) =>
      service.execute(key, () => (calls.push(label), label), options);
    await expect(run('webhook', { scope: 'webhook' })).resolves.toBe('webhook');
    await expect(run('cron', { scope: 'cron' })).resolves.toBe('cron');
    await expect(run('alice', { scope: 'webhook', principal: 'alice' })).resolves.toBe('alice');
    await expect(run('again', { scope: 'webhook' })).resolves.toBe('webhook');
    await expect(run('again', { scope: 'webhook', principal: 'alice' })).resolves.toBe('alice');
    expect(calls).toEqual(['webhook', 'cron', 'alice']);
  });

  it.each([
    ['an empty key', ''],
    ['a 256-character key', 'k'.repeat(256)],
    ['a key with a NUL character', 'evt\u00001'],
    // PostgreSQL would store both as U+FFFD: two keys, one record.
    ['a key with a lone high surrogate', 'evt-\ud800'],
    ['a key with a lone low surrogate', 'evt-\udc00'],
  ])('rejects %s without running the operation', async (_case, key) => {
    const operation = jest.fn(() => 'ran');
    await expect(service.execute(key, operation)).rejects.toBeInstanceOf(InvalidIdempotencyKeyException);
    expect(operation).not.toHaveBeenCalled();
  });

  it.each([
    ['a scope with a NUL character', { scope: 'hooks\u0000' }],
    ['a principal with a lone surrogate', { principal: 'user-\ud83d' }],
    ['a lockTimeout below 1000 ms', { lockTimeout: 0 }],
    ['a ttl that is not a number', { ttl: Number.NaN }],
    ['a negative ttl', { ttl: -1 }],
  ])('refuses %s with IdempotencyConfigurationError before touching the store', async (_case, options) => {
    const operation = jest.fn(() => 'ran');
    const error = await service.execute(newKey(), operation, options).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(IdempotencyConfigurationError);
    expect((error as Error).message).toMatch(new RegExp(Object.keys(options)[0]));
    expect(operation).not.toHaveBeenCalled();
  });

  it('accepts a ttl given as a numeric string, as ConfigService returns it', async () => {
    const key = newKey();
    await service.execute(key, () => 'kept', { ttl: '3600000' as unknown as number });
    const [row] = await dataSource.query(
      'SELECT extract(epoch FROM expires_at - completed_at)::int AS seconds FROM idempotency_records WHERE key = $1',
      [key],
    );
    expect(row.seconds).toBe(3600);
  });

  it.each([0, -1, 1.5, Number.NaN])('purgeExpired(%p) is refused instead of looping forever', async (batchSize) => {
    await expect(service.purgeExpired(batchSize)).rejects.toBeInstanceOf(IdempotencyConfigurationError);
  });

  it('accepts a 255-character key', async () => {
    await expect(service.execute('k'.repeat(255), () => 'ran')).resolves.toBe('ran');
  });

  it('does not replay a result whose ttl is over', async () => {
    const key = newKey();
    const operation = jest.fn(() => 'fresh');
    await service.execute(key, operation, { ttl: 0 });
    await service.execute(key, operation, { ttl: 0 });
    expect(operation).toHaveBeenCalledTimes(2);
  });

  it('purgeExpired() deletes every expired record, in batches, and keeps the live ones', async () => {
    const live = newKey();
    await service.execute(live, () => 'kept');
    const expired = PURGE_BATCH_SIZE * 2 + 5;
    await dataSource.query(
      `INSERT INTO idempotency_records (scope, principal, key, fingerprint, status, token, expires_at)
       SELECT 'purge', '', 'expired-' || n, '', 'completed', gen_random_uuid(), now() - interval '1 second'
       FROM generate_series(1, $1::int) AS n`,
      [expired],
    );
    const [before] = await dataSource.query('SELECT count(*)::int AS n FROM idempotency_records WHERE expires_at <= now()');
    expect(before.n).toBeGreaterThanOrEqual(expired);

    await expect(service.purgeExpired()).resolves.toBe(before.n);
    const [after] = await dataSource.query('SELECT count(*)::int AS n FROM idempotency_records WHERE expires_at <= now()');
    expect(after.n).toBe(0);
    await expect(service.execute(live, () => 'rerun')).resolves.toBe('kept');
  });
});
