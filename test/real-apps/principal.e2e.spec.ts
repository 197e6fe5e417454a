import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ADAPTERS } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { PrincipalAppModule } from './fixtures/principal.app.js';
import { RunLog } from './fixtures/run-log.js';
import { bootRealApp } from './support/boot.js';
import { newKey, PROBLEM_JSON, recordsOf } from './support/requests.js';

const PRINCIPAL_UNRESOLVED = 'urn:nestjs-idempotency:principal-unresolved';

describe.each(ADAPTERS)('principal of a key in a real app (%s)', (adapter) => {
  let database: TestDatabase;
  let app: INestApplication;
  let runs: RunLog;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await bootRealApp(adapter, [PrincipalAppModule.forRoot(database.url)]);
    runs = app.get(RunLog);
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  const expectPrincipalUnresolved = (response: request.Response) => {
    expect(response.status).toBe(500);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.body).toEqual({
      type: PRINCIPAL_UNRESOLVED,
      title: expect.any(String),
      status: 500,
      detail: expect.any(String),
    });
  };

  it('refuses a req.user without id, sub, userId or _id with 500 principal-unresolved, runs nothing, stores nothing, and refuses its retry the same way', async () => {
    const key = newKey();
    const user = JSON.stringify({ email: 'carol@example.com', roles: ['admin'] });
    const first = await http().post('/json-user/transfers').set('Idempotency-Key', key).set('X-User-Json', user).send({ amount: 5 });
    expectPrincipalUnresolved(first);
    expect(await recordsOf(app, key)).toEqual([]);
    const retry = await http().post('/json-user/transfers').set('Idempotency-Key', key).set('X-User-Json', user).send({ amount: 5 });
    expectPrincipalUnresolved(retry);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(runs.count('json-user')).toBe(0);
    expect(await recordsOf(app, key)).toEqual([]);
  });

  it.each([
    ['id before sub', { id: 'i-1', sub: 's-1', userId: 'u-1' }, 'i-1'],
    ['sub before userId', { sub: 's-2', userId: 'u-2', _id: 'm-2' }, 's-2'],
    ['userId (as a string) when there is no id or sub', { userId: 42, username: 'dave' }, '42'],
    ['_id when it is the only one', { _id: 'm-3', email: 'erin@example.com' }, 'm-3'],
    ['the first that is not null', { id: null, sub: null, userId: 'u-4' }, 'u-4'],
  ])('files the key under %s', async (_case, user, principal) => {
    const key = newKey();
    const before = runs.count('json-user');
    const response = await http()
      .post('/json-user/transfers')
      .set('Idempotency-Key', key)
      .set('X-User-Json', JSON.stringify(user))
      .send({ amount: 1 });
    expect(response.status).toBe(201);
    expect(runs.count('json-user')).toBe(before + 1);
    expect((await recordsOf(app, key)).map((row) => row.principal)).toEqual([principal]);
  });

  it('files a request that carries no req.user at all under the anonymous principal, and replays it', async () => {
    const key = newKey();
    const before = runs.count('json-user');
    const first = await http().post('/json-user/transfers').set('Idempotency-Key', key).send({ amount: 2 });
    const retry = await http().post('/json-user/transfers').set('Idempotency-Key', key).send({ amount: 2 });
    expect(first.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.text).toBe(first.text);
    expect(runs.count('json-user')).toBe(before + 1);
    expect((await recordsOf(app, key)).map((row) => row.principal)).toEqual(['']);
  });

  it('passport bearer strategy returning { userId, username }: alice and bob with one key and body get separate executions, and each retry replays its own', async () => {
    const key = newKey();
    const body = { to: 'carol', amount: 100 };
    const send = (token: string) =>
      http().post('/bearer/transfers').set('Authorization', `Bearer ${token}`).set('Idempotency-Key', key).send(body);
    const alice = await send('alice');
    const bob = await send('bob');
    expect([alice.status, bob.status]).toEqual([201, 201]);
    expect(alice.body.user).toBe('alice');
    expect(bob.body.user).toBe('bob');
    expect(bob.headers['idempotent-replayed']).toBeUndefined();
    expect(bob.body.execution).not.toBe(alice.body.execution);
    const aliceRetry = await send('alice');
    const bobRetry = await send('bob');
    expect(aliceRetry.headers['idempotent-replayed']).toBe('true');
    expect(aliceRetry.text).toBe(alice.text);
    expect(bobRetry.headers['idempotent-replayed']).toBe('true');
    expect(bobRetry.text).toBe(bob.text);
    expect(runs.count('bearer')).toBe(2);
    expect((await recordsOf(app, key)).map((row) => row.principal)).toEqual(['user-alice', 'user-bob']);
  });

  it('passport bearer strategy returning { username } only: 500 principal-unresolved for alice and bob, nothing runs, nothing is stored', async () => {
    const key = newKey();
    const send = (token: string) =>
      http().post('/name-only/transfers').set('Authorization', `Bearer ${token}`).set('Idempotency-Key', key).send({ amount: 7 });
    expectPrincipalUnresolved(await send('alice'));
    expectPrincipalUnresolved(await send('bob'));
    expectPrincipalUnresolved(await send('alice'));
    expect(runs.count('name-only')).toBe(0);
    expect(await recordsOf(app, key)).toEqual([]);
  });

  it('PassportModule with property "profile" (req.user unset, req.authInfo set): refused with 500 principal-unresolved, nothing runs, nothing is stored', async () => {
    const key = newKey();
    const send = (token: string) =>
      http().post('/profile/transfers').set('Authorization', `Bearer ${token}`).set('Idempotency-Key', key).send({ amount: 3 });
    expectPrincipalUnresolved(await send('alice'));
    expectPrincipalUnresolved(await send('bob'));
    expect(runs.count('profile')).toBe(0);
    expect(await recordsOf(app, key)).toEqual([]);
  });

  it('PassportModule with property "profile" and a principal option reading req.profile.name: alice and bob are kept apart and replayed', async () => {
    const key = newKey();
    const send = (token: string) =>
      http()
        .post('/profile/named-transfers')
        .set('Authorization', `Bearer ${token}`)
        .set('Idempotency-Key', key)
        .send({ amount: 3 });
    const alice = await send('alice');
    const bob = await send('bob');
    expect([alice.status, bob.status]).toEqual([201, 201]);
    expect([alice.body.user, bob.body.user]).toEqual(['alice', 'bob']);
    const aliceRetry = await send('alice');
    const bobRetry = await send('bob');
    expect(aliceRetry.headers['idempotent-replayed']).toBe('true');
    expect(aliceRetry.text).toBe(alice.text);
    expect(bobRetry.headers['idempotent-replayed']).toBe('true');
    expect(bobRetry.text).toBe(bob.text);
    expect(runs.count('profile-named')).toBe(2);
    expect((await recordsOf(app, key)).map((row) => row.principal)).toEqual(['alice', 'bob']);
  });

  it('an unauthenticated request is turned away by the passport guard before the library (401), nothing is stored', async () => {
    const key = newKey();
    const response = await http().post('/bearer/transfers').set('Authorization', 'Bearer mallory').set('Idempotency-Key', key).send({});
    expect(response.status).toBe(401);
    expect(await recordsOf(app, key)).toEqual([]);
  });
});
