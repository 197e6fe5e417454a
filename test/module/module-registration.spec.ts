import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, Module, type ConfigurableModuleOptionsFactory, type INestApplication } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import {
  IdempotencyModule,
  IdempotencyRecord,
  IdempotencyStore,
  InMemoryIdempotencyStore,
  type IdempotencyModuleOptions,
} from '../../lib/index.js';
import { bootApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { CounterModule } from './counter.controller.js';

type OptionsFactory = ConfigurableModuleOptionsFactory<IdempotencyModuleOptions, 'create'>;

/** A `useClass` factory that reads its option from ConfigService. */
@Injectable()
class ConfiguredIdempotencyOptions implements OptionsFactory {
  constructor(private readonly config: ConfigService) {}

  create(): IdempotencyModuleOptions {
    return { required: this.config.get<boolean>('IDEMPOTENCY_REQUIRED'), store: new InMemoryIdempotencyStore() };
  }
}

/** A `useExisting` factory: a provider another module already exports. */
@Injectable()
class SharedIdempotencyOptions implements OptionsFactory {
  readonly store = new InMemoryIdempotencyStore();

  create(): IdempotencyModuleOptions {
    return { fingerprint: false, store: this.store };
  }
}

@Module({ providers: [SharedIdempotencyOptions], exports: [SharedIdempotencyOptions] })
class SharedOptionsModule {}

describe('IdempotencyModule registration (express)', () => {
  let database: TestDatabase;
  let app: INestApplication | undefined;
  let owned: TestDatabase[] = [];
  /** A database of the test's own, dropped after it: proves the app created the table. */
  const ownDatabase = async () => {
    const own = await createTestDatabase();
    owned.push(own);
    return own;
  };
  const post = (body: object = {}) => request(app!.getHttpServer()).post('/counter').send(body);

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await Promise.all(owned.map((own) => own.drop()));
    owned = [];
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('forRootAsync with useFactory and ConfigService: reads the key from the configured header', async () => {
    app = await bootApp('express', [
      ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ IDEMPOTENCY_HEADER: 'X-Request-Key' })] }),
      TypeOrmModule.forRoot({ type: 'postgres', url: database.url, entities: [IdempotencyRecord], synchronize: true }),
      IdempotencyModule.forRootAsync({
        imports: [ConfigModule],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({ header: config.get<string>('IDEMPOTENCY_HEADER') }),
      }),
      CounterModule,
    ]);
    const first = await post().set('X-Request-Key', 'factory-1');
    const retry = await post().set('X-Request-Key', 'factory-1');
    expect([first.status, first.body.call]).toEqual([201, 1]);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);

    const defaultHeader = await post().set('Idempotency-Key', 'factory-2');
    expect(defaultHeader.status).toBe(400);
    expect(defaultHeader.body.detail).toMatch(/X-Request-Key/);
    const rows = await app.get<DataSource>(getDataSourceToken()).query('SELECT key FROM idempotency_records');
    expect(rows).toEqual([{ key: 'factory-1' }]);
  });

  it('forRootAsync with useClass: instantiates the factory with its dependencies and calls create()', async () => {
    app = await bootApp('express', [
      ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ IDEMPOTENCY_REQUIRED: false })] }),
      IdempotencyModule.forRootAsync({ imports: [ConfigModule], useClass: ConfiguredIdempotencyOptions }),
      CounterModule,
    ]);
    const withoutKey = [await post(), await post()];
    expect(withoutKey.map((r) => [r.status, r.body.call])).toEqual([
      [201, 1],
      [201, 2],
    ]);
    await post().set('Idempotency-Key', 'class-1').expect(201);
    const retry = await post().set('Idempotency-Key', 'class-1');
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body.call).toBe(3);
  });

  it('forRootAsync with useExisting: uses the exported factory instance', async () => {
    app = await bootApp('express', [
      IdempotencyModule.forRootAsync({ imports: [SharedOptionsModule], useExisting: SharedIdempotencyOptions }),
      CounterModule,
    ]);
    expect(app.get(IdempotencyStore)).toBe(app.get(SharedIdempotencyOptions).store);
    const first = await post({ amount: 1 }).set('Idempotency-Key', 'existing-1');
    // fingerprint: false, so another payload with the same key is a replay, not a 422.
    const retry = await post({ amount: 2 }).set('Idempotency-Key', 'existing-1');
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
  });

  it('forRoot with an InMemoryIdempotencyStore works without TypeORM', async () => {
    const store = new InMemoryIdempotencyStore();
    app = await bootApp('express', [IdempotencyModule.forRoot({ store }), CounterModule]);
    expect(app.get(IdempotencyStore)).toBe(store);
    const first = await post({ amount: 1 }).set('Idempotency-Key', 'memory-1');
    const retry = await post({ amount: 1 }).set('Idempotency-Key', 'memory-1');
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    await post({ amount: 2 }).set('Idempotency-Key', 'memory-1').expect(422);
  });

  // Before any forRoot() test: entity registration is process-wide.
  it('forRootAsync() creates its table through autoLoadEntities of the default DataSource', async () => {
    const own = await ownDatabase();
    app = await bootApp('express', [
      TypeOrmModule.forRoot({ type: 'postgres', url: own.url, autoLoadEntities: true, synchronize: true }),
      IdempotencyModule.forRootAsync({ useFactory: () => ({ ttl: 60_000 }) }),
      CounterModule,
    ]);
    await post().set('Idempotency-Key', 'auto-async-1').expect(201);
    const retry = await post().set('Idempotency-Key', 'auto-async-1');
    expect(retry.headers['idempotent-replayed']).toBe('true');
  });

  it('forRoot() creates its table through autoLoadEntities of the default DataSource', async () => {
    const own = await ownDatabase();
    app = await bootApp('express', [
      TypeOrmModule.forRoot({ type: 'postgres', url: own.url, autoLoadEntities: true, synchronize: true }),
      IdempotencyModule.forRoot(),
      CounterModule,
    ]);
    await post().set('Idempotency-Key', 'auto-1').expect(201);
    const retry = await post().set('Idempotency-Key', 'auto-1');
    expect(retry.headers['idempotent-replayed']).toBe('true');
  });

  it('forRoot with dataSource stores records through that named DataSource, its table from autoLoadEntities', async () => {
    const own = await ownDatabase();
    app = await bootApp('express', [
      TypeOrmModule.forRoot({ type: 'postgres', url: own.url, autoLoadEntities: true, synchronize: true }, 'records'),
      IdempotencyModule.forRoot({ dataSource: 'records' }),
      CounterModule,
    ]);
    const first = await post().set('Idempotency-Key', 'named-1');
    const retry = await post().set('Idempotency-Key', 'named-1');
    expect(first.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    const rows = await app.get<DataSource>(getDataSourceToken('records')).query(
      `SELECT status FROM idempotency_records WHERE key = 'named-1'`,
    );
    expect(rows).toEqual([{ status: 'completed' }]);
  });
});
