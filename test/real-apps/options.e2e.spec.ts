import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { IdempotencyModuleOptions } from '../../lib/index.js';
import { ADAPTERS } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { OptionsAppModule } from './fixtures/options.app.js';
import { RunLog } from './fixtures/run-log.js';
import { bootFailure, bootRealApp } from './support/boot.js';
import { newKey, recordsOf } from './support/requests.js';

describe.each(ADAPTERS)('options are validated at startup (%s)', (adapter) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it.each<[string, IdempotencyModuleOptions, RegExp]>([
    ['lockTimeout: 0', { lockTimeout: 0 }, /lockTimeout/],
    ['ttl: NaN', { ttl: Number.NaN }, /ttl/],
    ['ttl: -5', { ttl: -5 }, /ttl/],
    ['sweepInterval: -1', { sweepInterval: -1 }, /sweepInterval/],
    ["maxResponseBytes: 'x'", { maxResponseBytes: 'x' as unknown as number }, /maxResponseBytes/],
  ])('forRoot({ %s }) refuses to start, naming the option', async (_case, options, names) => {
    const error = await bootFailure(async () => bootRealApp(adapter, [OptionsAppModule.forRoot(database.url, options)]));
    expect(error.message).toMatch(names);
  });

  it('@Idempotent({ lockTimeout: -1 }) on a route refuses to start, naming the option and the route', async () => {
    const error = await bootFailure(async () => bootRealApp(adapter, [OptionsAppModule.withInvalidRoute(database.url)]));
    expect(error.message).toMatch(/lockTimeout/);
    expect(error.message).toMatch(/WidgetsController|createWidget|\/widgets/);
  });

  describe('forRootAsync with a factory returning ttl as a string (as from ConfigService)', () => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await bootRealApp(adapter, [OptionsAppModule.forRootAsync(database.url, () => ({ ttl: '3600000' }))]);
    });

    afterAll(async () => {
      await app?.close();
    });

    it('is accepted and coerced to a number: a completed record expires one hour after completion', async () => {
      const key = newKey();
      const first = await request(app.getHttpServer()).post('/receipts').set('Idempotency-Key', key).send({});
      expect(first.status).toBe(201);
      const retry = await request(app.getHttpServer()).post('/receipts').set('Idempotency-Key', key).send({});
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(app.get(RunLog).count('receipts')).toBe(1);
      const [record] = await recordsOf(app, key);
      expect(record.status).toBe('completed');
      expect(record.ttl_seconds).toBeGreaterThan(3600 - 5);
      expect(record.ttl_seconds).toBeLessThan(3600 + 5);
    });
  });
});
