import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ADAPTERS } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { CustomisedAppModule, SecondInterceptorAppModule, TwoImportsAppModule } from './fixtures/customisation.app.js';
import { RunLog } from './fixtures/run-log.js';
import { bootFailure, bootRealApp } from './support/boot.js';
import { newKey, recordsOf } from './support/requests.js';

/** The message names the supported fix: the `interceptor` option (the word alone, not "Interceptor" in a class name). */
const NAMES_INTERCEPTOR_OPTION = /\binterceptor\b/;

describe.each(ADAPTERS)('customising the interceptor (%s)', (adapter) => {
  let database: TestDatabase;
  let app: INestApplication;
  let runs: RunLog;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await bootRealApp(adapter, [CustomisedAppModule.forRoot(database.url)]);
    runs = app.get(RunLog);
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('forRoot({ interceptor }) with a subclass overriding getPrincipal replaces the built-in interceptor: one record per request, two tenants with one key get two executions', async () => {
    const key = newKey();
    const send = (tenant: string) => http().post('/invoices').set('Idempotency-Key', key).set('X-Tenant', tenant).send({ total: 40 });
    const acme = await send('acme');
    expect(acme.status).toBe(201);
    expect(await recordsOf(app, key)).toEqual([expect.objectContaining({ principal: 'tenant:acme', status: 'completed' })]);
    const globex = await send('globex');
    expect(globex.status).toBe(201);
    expect(globex.headers['idempotent-replayed']).toBeUndefined();
    expect(globex.body.execution).not.toBe(acme.body.execution);
    const acmeRetry = await send('acme');
    expect(acmeRetry.headers['idempotent-replayed']).toBe('true');
    expect(acmeRetry.text).toBe(acme.text);
    expect(runs.count('invoices')).toBe(2);
    expect((await recordsOf(app, key)).map((row) => row.principal)).toEqual(['tenant:acme', 'tenant:globex']);
  });

  it('refuses to start with the subclass registered as an APP_INTERCEPTOR beside IdempotencyModule.forRoot(), naming the interceptor option', async () => {
    const error = await bootFailure(() => bootRealApp(adapter, [SecondInterceptorAppModule.forRoot(database.url)]));
    expect(error.message).toMatch(NAMES_INTERCEPTOR_OPTION);
  });

  it('refuses to start with IdempotencyModule.forRoot({ isGlobal: false }) imported by two modules of one app, naming the interceptor option', async () => {
    const error = await bootFailure(() => bootRealApp(adapter, [TwoImportsAppModule.forRoot(database.url)]));
    expect(error.message).toMatch(NAMES_INTERCEPTOR_OPTION);
  });
});
