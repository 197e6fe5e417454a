import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { IdempotencyModule, SqliteIdempotencyRecord } from '../../lib/index.js';
import { bootApp } from '../support/app.js';
import { CounterModule } from './counter.controller.js';

// A file of its own: entity registration is process-wide per DataSource name,
// and the PostgreSQL entity must not reach these SQLite DataSources.
describe('the `entity` extra: the record entity of a database other than PostgreSQL', () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const firstAndReplay = async (key: string) => {
    const post = () => request(app!.getHttpServer()).post('/counter').set('Idempotency-Key', key).send({ n: 1 });
    const first = await post().expect(201);
    const retry = await post().expect(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
  };

  it('forRoot({ entity }) puts SqliteIdempotencyRecord into autoLoadEntities, and synchronize builds its table', async () => {
    app = await bootApp('express', [
      TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:', autoLoadEntities: true, synchronize: true }),
      IdempotencyModule.forRoot({ entity: SqliteIdempotencyRecord }),
      CounterModule,
    ]);
    await firstAndReplay('sqlite-root-1');
    const dataSource = app.get<DataSource>(getDataSourceToken());
    expect(dataSource.entityMetadatas.map((metadata) => metadata.target)).toEqual([SqliteIdempotencyRecord]);
  });

  it('forRootAsync({ entity }) does the same for the DataSource registerEntity names', async () => {
    app = await bootApp('express', [
      TypeOrmModule.forRoot(
        { type: 'better-sqlite3', database: ':memory:', autoLoadEntities: true, synchronize: true },
        'records',
      ),
      IdempotencyModule.forRootAsync({
        entity: SqliteIdempotencyRecord,
        registerEntity: 'records',
        useFactory: () => ({ dataSource: 'records' }),
      }),
      CounterModule,
    ]);
    await firstAndReplay('sqlite-async-1');
    const rows = await app.get<DataSource>(getDataSourceToken('records')).query('SELECT status FROM idempotency_records');
    expect(rows).toEqual([{ status: 'completed' }]);
  });
});
