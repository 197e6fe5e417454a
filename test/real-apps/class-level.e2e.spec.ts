import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { ADAPTERS } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { ClassLevelAppModule } from './fixtures/class-level.app.js';
import { RunLog } from './fixtures/run-log.js';
import { bootRealApp } from './support/boot.js';
import { newKey, recordsOf } from './support/requests.js';

/** Reads a text/event-stream response to its end. */
const readStream = (response: unknown, callback: (error: Error | null, body: string) => void) => {
  const stream = response as NodeJS.ReadableStream;
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => (text += chunk));
  stream.on('end', () => callback(null, text));
};

describe.each(ADAPTERS)('class-level @Idempotent() (%s)', (adapter) => {
  let database: TestDatabase;
  let app: INestApplication;
  let runs: RunLog;
  const http = () => request(app.getHttpServer());
  const recordCount = async () =>
    (await app.get(DataSource).query('SELECT count(*)::int AS n FROM idempotency_records'))[0].n as number;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await bootRealApp(adapter, [ClassLevelAppModule.forRoot(database.url)]);
    runs = app.get(RunLog);
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('merges class and method options, the method winning per option: the record has the class scope "payments" and the method ttl (60 s)', async () => {
    const key = newKey();
    const first = await http().post('/ledger/entries').set('Idempotency-Key', key).send({ amount: 1 });
    expect(first.status).toBe(201);
    const retry = await http().post('/ledger/entries').set('Idempotency-Key', key).send({ amount: 1 });
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(runs.count('entries')).toBe(1);
    const [record, ...others] = await recordsOf(app, key);
    expect(others).toEqual([]);
    expect(record.scope).toBe('payments');
    expect(record.ttl_seconds).toBeGreaterThan(55);
    expect(record.ttl_seconds).toBeLessThan(65);
  });

  it('a method without options of its own takes the class options: scope "payments", ttl 120 s', async () => {
    const key = newKey();
    await http().post('/ledger/charges').set('Idempotency-Key', key).send({}).expect(201);
    const [record] = await recordsOf(app, key);
    expect(record.scope).toBe('payments');
    expect(record.ttl_seconds).toBeGreaterThan(115);
    expect(record.ttl_seconds).toBeLessThan(125);
  });

  it('an @Sse() route of the class streams its events without an Idempotency-Key, with or without one, and stores no record', async () => {
    const before = await recordCount();
    const key = newKey();
    for (const call of [http().get('/ledger/events'), http().get('/ledger/events').set('Idempotency-Key', key)]) {
      const response = await call.buffer(true).parse(readStream).timeout(5_000);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(response.body).toMatch(/data: \{"execution":\d+,"n":1\}\n/);
      expect(response.body).toMatch(/data: \{"execution":\d+,"n":2\}\n/);
      expect(response.headers['idempotent-replayed']).toBeUndefined();
    }
    expect(runs.count('events')).toBe(2);
    expect(await recordsOf(app, key)).toEqual([]);
    expect(await recordCount()).toBe(before);
  });
});
