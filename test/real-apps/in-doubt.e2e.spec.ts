import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ADAPTERS, type AdapterName } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { Barriers } from './fixtures/barriers.js';
import { InDoubtAppModule, PROBES, timeoutInterceptor, type TimeoutRegistration } from './fixtures/in-doubt.app.js';
import { RunLog } from './fixtures/run-log.js';
import { bootRealApp } from './support/boot.js';
import { abortableRequest, newKey, pollUntil, PROBLEM_JSON, recordsOf, within } from './support/requests.js';

/** How long a test waits at most for a lease to lapse (the lease is 1.5 s long). */
const LAPSE_WITHIN_MS = 5_000;

function bootInDoubtApp(adapter: AdapterName, url: string, registration: TimeoutRegistration, probes = false) {
  return bootRealApp(adapter, [InDoubtAppModule.forRoot(url, registration, probes)], {
    listen: true,
    configure: (app) => {
      if (registration === 'useGlobalInterceptors') app.useGlobalInterceptors(timeoutInterceptor());
      if (probes) app.useGlobalInterceptors(PROBES.globalInterceptor);
    },
  });
}

const expectInFlight = (response: request.Response) => {
  expect(response.status).toBe(409);
  expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
  expect(response.body).toMatchObject({ type: 'urn:nestjs-idempotency:key-in-flight', status: 409 });
  expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
};

describe.each(ADAPTERS)('in-doubt outcomes keep their record, and no key stays stuck (%s)', (adapter) => {
  let database: TestDatabase;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    for (const app of apps) {
      app.get(Barriers).openAll();
      await app.close();
    }
    await database?.drop();
  });

  const boot = async (registration: TimeoutRegistration, probes = false) => {
    const app = await bootInDoubtApp(adapter, database.url, registration, probes);
    apps.push(app);
    return app;
  };

  it('precondition: an APP_INTERCEPTOR of the app module runs outside the library interceptor, app.useGlobalInterceptors() inside it', async () => {
    const app = await boot('none', true);
    const key = newKey();
    await request(app.getHttpServer()).post('/in-doubt/slow').set('Idempotency-Key', key).send({}).expect(201);
    const replay = await request(app.getHttpServer()).post('/in-doubt/slow').set('Idempotency-Key', key).send({});
    expect(replay.headers['idempotent-replayed']).toBe('true');
    // The outer one sees the replay too; the inner one only the request that ran the handler.
    expect(PROBES.appInterceptor.seen.filter((seen) => seen.endsWith(key))).toHaveLength(2);
    expect(PROBES.globalInterceptor.seen.filter((seen) => seen.endsWith(key))).toHaveLength(1);
  });

  it('an Observable handler whose client disconnects: retries get 409 while the lease lives, and once it lapses (heartbeat stopped) a retry runs the handler', async () => {
    const app = await boot('none');
    const runs = app.get(RunLog);
    const barriers = app.get(Barriers);
    const key = newKey();
    const barrier = `observable-${key}`;
    const first = abortableRequest(
      app,
      'POST',
      '/in-doubt/observable',
      { 'Content-Type': 'application/json', 'Idempotency-Key': key, 'X-Barrier': barrier },
      '{"amount":10}',
    );
    await within(barriers.barrier(barrier).arrived(1), 'the handler to arrive at its barrier');
    first.abort();
    await within(barriers.signal(`${barrier}:torn-down`).fired, 'Nest to unsubscribe the handler stream');
    expect(await first.response).toBeNull();

    const retry = () => request(app.getHttpServer()).post('/in-doubt/observable').set('Idempotency-Key', key).send({ amount: 10 });
    expectInFlight(await retry());
    expect(runs.count('observable')).toBe(1);

    const attempts = await pollUntil(retry, (response) => response.status !== 409, LAPSE_WITHIN_MS);
    const answered = attempts[attempts.length - 1];
    expect(answered.status).toBe(201);
    expect(answered.headers['idempotent-replayed']).toBeUndefined();
    expect(answered.body).toEqual({ execution: 2 });
    expect(runs.count('observable')).toBe(2);
    const replay = await retry();
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.text).toBe(answered.text);
    expect(runs.count('observable')).toBe(2);
  });

  it.each<[TimeoutRegistration, string]>([
    ['APP_INTERCEPTOR', 'outer'],
    ['useGlobalInterceptors', 'inner'],
  ])(
    'a timeout() interceptor registered with %s (%s): the slow handler answers 408, a retry while it is still held gets 409 with one execution, and after it ended and the lease lapsed a retry is answered, never beside it',
    async (registration) => {
      const app = await boot(registration);
      const runs = app.get(RunLog);
      const barriers = app.get(Barriers);
      const key = newKey();
      const barrier = `slow-${key}`;
      const before = runs.count('slow');
      const retry = () => request(app.getHttpServer()).post('/in-doubt/slow').set('Idempotency-Key', key).send({ amount: 5 });

      const first = await request(app.getHttpServer())
        .post('/in-doubt/slow')
        .set('Idempotency-Key', key)
        .set('X-Barrier', barrier)
        .send({ amount: 5 });
      expect(first.status).toBe(408);
      await within(barriers.barrier(barrier).arrived(1), 'the handler to arrive at its barrier');

      // The handler is still held at its barrier: its outcome is in doubt.
      expectInFlight(await retry());
      expect(runs.count('slow')).toBe(before + 1);
      expect(await recordsOf(app, key)).toEqual([expect.objectContaining({ status: 'processing' })]);

      barriers.barrier(barrier).open();
      await within(barriers.signal(`${barrier}:finished`).fired, 'the handler to end');

      const attempts = await pollUntil(retry, (response) => response.status !== 409, LAPSE_WITHIN_MS);
      const answered = attempts[attempts.length - 1];
      expect(answered.status).toBe(201);
      const ranAgain = answered.headers['idempotent-replayed'] !== 'true';
      expect(runs.count('slow')).toBe(before + (ranAgain ? 2 : 1));
      expect(runs.maxConcurrent('slow')).toBe(1);
    },
  );

  it('an inner timeout (useGlobalInterceptors) answers 408 while the handler still runs: the record is kept, a retry gets 409 and never runs the handler beside it', async () => {
    const app = await boot('useGlobalInterceptors');
    const runs = app.get(RunLog);
    const barriers = app.get(Barriers);
    const key = newKey();
    const barrier = `inner-${key}`;
    const before = runs.count('slow');
    const send = () => request(app.getHttpServer()).post('/in-doubt/slow').set('Idempotency-Key', key).send({ n: 1 });

    const first = await request(app.getHttpServer()).post('/in-doubt/slow').set('Idempotency-Key', key).set('X-Barrier', barrier).send({ n: 1 });
    expect(first.status).toBe(408);
    await within(barriers.barrier(barrier).arrived(1), 'the handler to arrive at its barrier');
    expectInFlight(await send());
    expectInFlight(await send());
    expect(runs.count('slow')).toBe(before + 1);
    expect(runs.maxConcurrent('slow')).toBe(1);
    barriers.barrier(barrier).open();
    await within(barriers.signal(`${barrier}:finished`).fired, 'the handler to end');
  });
});
