import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { IdempotencyModuleOptions } from '../../lib/index.js';
import { ADAPTERS, bootApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { Executions } from '../fixtures/executions.js';
import { FixtureModule } from '../fixtures/fixture.module.js';
import { Gate } from '../fixtures/gate.js';

const PROBLEM_JSON = /^application\/problem\+json/;
let keySequence = 0;
const newKey = () => `key-${process.pid}-${++keySequence}`;

/**
 * Every row of DESIGN.md §2 over HTTP, on Express and Fastify, with the store
 * `storeOptions` gives (the module's default TypeORM store when it gives
 * none). Side effects are counted in PostgreSQL whatever the store.
 */
export function describeHttpSemantics(storeName: string, storeOptions: () => IdempotencyModuleOptions = () => ({})) {
  describe.each(ADAPTERS)(`HTTP semantics on ${storeName} (%s)`, (adapter) => {
    let database: TestDatabase;
    let app: INestApplication;
    let executions: Executions;
    const http = () => request(app.getHttpServer());

    beforeAll(async () => {
      database = await createTestDatabase();
      app = await bootApp(adapter, [FixtureModule.forRoot(database.url, storeOptions())]);
      await app.get(DataSource).query(Executions.ddl);
      executions = app.get(Executions);
    });

    afterAll(async () => {
      await app?.close();
      await database?.drop();
    });

    it('runs the handler on the first request and sends its response', async () => {
      const key = newKey();
      const response = await http().post('/orders?b=2&a=1').set('Idempotency-Key', key).send({ item: 'book' });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({ execution: expect.any(Number), body: { item: 'book' }, query: { a: '1', b: '2' } });
      expect(response.headers['idempotent-replayed']).toBeUndefined();
      expect(response.headers.location).toBe(`/orders/${response.body.execution}`);
    });

    it('replays a completed response with Idempotent-Replayed and identical status, headers and body', async () => {
      const key = newKey();
      const before = await executions.count('orders');
      const first = await http().post('/orders').set('Idempotency-Key', key).send({ item: 'pen', qty: 2 });
      const retry = await http().post('/orders').set('Idempotency-Key', key).send({ item: 'pen', qty: 2 });
      expect(await executions.count('orders')).toBe(before + 1);
      expect(retry.status).toBe(first.status);
      expect(retry.text).toBe(first.text);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      for (const name of ['content-type', 'location', 'etag', 'content-length']) {
        expect([name, retry.headers[name]]).toEqual([name, first.headers[name]]);
      }
    });

    it('does not replay headers outside replayHeaders, such as set-cookie', async () => {
      const key = newKey();
      const first = await http().post('/orders').set('Idempotency-Key', key).send({});
      expect(first.headers['set-cookie']).toEqual([`session=${first.body.execution}`]);
      expect(first.headers['x-trace']).toBe(`trace-${first.body.execution}`);
      const retry = await http().post('/orders').set('Idempotency-Key', key).send({});
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.headers['set-cookie']).toBeUndefined();
      expect(retry.headers['x-trace']).toBeUndefined();
    });

    it('treats the same JSON body in another key order as the same request', async () => {
      const key = newKey();
      const first = await http().post('/orders').set('Idempotency-Key', key).send({ a: 1, b: { c: 2, d: 3 } });
      const retry = await http()
        .post('/orders')
        .set('Idempotency-Key', key)
        .set('Content-Type', 'application/json')
        .send('{"b":{"d":3,"c":2},"a":1}');
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.text).toBe(first.text);
    });

    it('answers 422 problem+json when the key comes with a different payload', async () => {
      const key = newKey();
      await http().post('/orders').set('Idempotency-Key', key).send({ amount: 10 }).expect(201);
      const before = await executions.count('orders');
      const mismatch = await http().post('/orders').set('Idempotency-Key', key).send({ amount: 11 });
      expect(mismatch.status).toBe(422);
      expect(mismatch.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(mismatch.body).toMatchObject({ status: 422, type: 'urn:nestjs-idempotency:key-reused', title: expect.any(String) });
      expect(mismatch.body.detail).toMatch(/new key/);
      const otherQuery = await http().post('/orders?amount=10').set('Idempotency-Key', key).send({ amount: 10 });
      expect(otherQuery.status).toBe(422);
      expect(await executions.count('orders')).toBe(before);
    });

    it('answers 409 with Retry-After while the first request is in flight, then replays it', async () => {
      const key = newKey();
      const gate = app.get(Gate);
      const first = http().post('/slow').set('Idempotency-Key', key).send({}).then((r) => r);
      await gate.arrived(1);
      const concurrent = await http().post('/slow').set('Idempotency-Key', key).send({});
      expect(concurrent.status).toBe(409);
      expect(concurrent.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(Number(concurrent.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(concurrent.body).toMatchObject({ status: 409, type: 'urn:nestjs-idempotency:key-in-flight' });
      gate.open();
      const original = await first;
      expect(original.status).toBe(201);
      const retry = await http().post('/slow').set('Idempotency-Key', key).send({});
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body).toEqual(original.body);
      expect(await executions.count('slow')).toBe(1);
    });

    it.each([
      ['missing', undefined, /requires an Idempotency-Key header/],
      ['empty', '', /must not be empty/],
      ['empty quoted', '""', /must not be empty/],
      ['256 characters long', 'k'.repeat(256), /at most 255/],
      ['with a control character', 'abc\tdef', /printable ASCII/],
      ['non-ASCII', 'caf\u00e9', /printable ASCII/],
      ['a broken quoted string', '"abc', /quoted string/],
    ])('answers 400 problem+json for a %s key and runs nothing', async (_case, key, detail) => {
      const before = await executions.count('orders');
      let call = http().post('/orders');
      if (key !== undefined) call = call.set('Idempotency-Key', key);
      const response = await call.send({});
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(response.body).toMatchObject({ status: 400, title: expect.any(String) });
      expect(response.body.detail).toMatch(detail);
      expect(await executions.count('orders')).toBe(before);
    });

    it('accepts a 255-character key and an RFC 8941 quoted key equal to its bare form', async () => {
      const long = 'k'.repeat(255);
      await http().post('/orders').set('Idempotency-Key', long).send({}).expect(201);
      const bare = newKey();
      const first = await http().post('/orders').set('Idempotency-Key', bare).send({});
      const quoted = await http().post('/orders').set('Idempotency-Key', `"${bare}"`).send({});
      expect(quoted.headers['idempotent-replayed']).toBe('true');
      expect(quoted.text).toBe(first.text);
    });

    it('passes a 5xx error through and releases the key so a retry runs again', async () => {
      const key = newKey();
      const first = await http().post('/unavailable').set('Idempotency-Key', key).send({});
      expect(first.status).toBe(503);
      expect(first.body.message).toBe('try later');
      const retry = await http().post('/unavailable').set('Idempotency-Key', key).send({});
      expect(retry.status).toBe(503);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
      expect(await executions.count('unavailable')).toBe(2);
    });

    it('passes an unknown error through as 500 and releases the key', async () => {
      const key = newKey();
      await http().post('/boom').set('Idempotency-Key', key).send({}).expect(500);
      await http().post('/boom').set('Idempotency-Key', key).send({}).expect(500);
      expect(await executions.count('boom')).toBe(2);
    });

    it('stores a cacheable 4xx thrown by the handler and replays it', async () => {
      const key = newKey();
      const first = await http().post('/missing').set('Idempotency-Key', key).send({});
      expect(first.status).toBe(404);
      const retry = await http().post('/missing').set('Idempotency-Key', key).send({});
      expect(retry.status).toBe(404);
      expect(retry.text).toBe(first.text);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(await executions.count('missing')).toBe(1);
    });

    it('protects a decorated GET', async () => {
      const key = newKey();
      const first = await http().get('/items/7').set('Idempotency-Key', key);
      const retry = await http().get('/items/7').set('Idempotency-Key', key);
      expect(first.status).toBe(200);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body).toEqual(first.body);
    });

    it('replays the status set by @HttpCode and a plain-text body byte for byte', async () => {
      const key = newKey();
      const accepted = await http().post('/accepted').set('Idempotency-Key', key).send({});
      const acceptedRetry = await http().post('/accepted').set('Idempotency-Key', key).send({});
      expect([accepted.status, acceptedRetry.status]).toEqual([202, 202]);
      const textKey = newKey();
      const text = await http().post('/text').set('Idempotency-Key', textKey).send({});
      const textRetry = await http().post('/text').set('Idempotency-Key', textKey).send({});
      expect(textRetry.headers['idempotent-replayed']).toBe('true');
      expect(textRetry.text).toBe(text.text);
      expect(textRetry.headers['content-type']).toBe(text.headers['content-type']);
    });

    it('keys of two principals are independent records', async () => {
      const key = newKey();
      const before = await executions.count('orders');
      const alice = await http().post('/orders').set('Idempotency-Key', key).set('X-User', 'alice').send({});
      const bob = await http().post('/orders').set('Idempotency-Key', key).set('X-User', 'bob').send({});
      expect(bob.headers['idempotent-replayed']).toBeUndefined();
      expect(bob.body.execution).not.toBe(alice.body.execution);
      const aliceRetry = await http().post('/orders').set('Idempotency-Key', key).set('X-User', 'alice').send({});
      expect(aliceRetry.body).toEqual(alice.body);
      expect(await executions.count('orders')).toBe(before + 2);
    });

    it('sends a response over maxResponseBytes, and answers a retry without running the handler again', async () => {
      const key = newKey();
      const first = await http().post('/big').set('Idempotency-Key', key).send({});
      expect(first.status).toBe(201);
      expect(first.body.data).toHaveLength(500);
      const retry = await http().post('/big').set('Idempotency-Key', key).send({});
      expect(retry.status).toBe(409);
      expect(retry.body).toMatchObject({ type: 'urn:nestjs-idempotency:response-not-stored' });
      expect(await executions.count('big')).toBe(1);
    });

    it('streams a StreamableFile once and never replays it half', async () => {
      const key = newKey();
      const first = await http().post('/file').set('Idempotency-Key', key).send({}).buffer(true);
      expect(first.status).toBe(201);
      expect(first.text).toMatch(/^file \d+$/);
      const retry = await http().post('/file').set('Idempotency-Key', key).send({});
      expect(retry.status).toBe(409);
      expect(retry.body).toMatchObject({ type: 'urn:nestjs-idempotency:response-not-stored' });
      expect(await executions.count('file')).toBe(1);
    });

    it('runs a route with required: false without a key, unprotected', async () => {
      await http().post('/optional').send({}).expect(201);
      await http().post('/optional').send({}).expect(201);
      expect(await executions.count('optional')).toBe(2);
    });

    it('applies a class-level @Idempotent and lets @SkipIdempotency opt a method out', async () => {
      const key = newKey();
      await http().post('/payments').set('Idempotency-Key', key).send({}).expect(201);
      const retry = await http().post('/payments').set('Idempotency-Key', key).send({});
      expect(retry.headers['idempotent-replayed']).toBe('true');
      await http().post('/payments').send({}).expect(400);
      await http().post('/payments/ping').set('Idempotency-Key', key).send({}).expect(201);
      await http().post('/payments/ping').set('Idempotency-Key', key).send({}).expect(201);
      expect(await executions.count('payments')).toBe(1);
      expect(await executions.count('ping')).toBe(2);
    });
  });
}
