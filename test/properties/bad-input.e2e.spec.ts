import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { Executions } from '../fixtures/executions.js';
import { FixtureModule } from '../fixtures/fixture.module.js';
import { ADAPTERS, bootApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';

/** What a well-formed key is: 1 to 255 printable ASCII characters (after RFC 8941 unquoting). */
const isValidBareKey = (key: string) => /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/.test(key) && !key.startsWith('"');

/** Control characters other than tab, which HTTP parsers refuse in header values. */
const isControlCharacter = (char: string) => char !== '\t' && (char < ' ' || char === '\x7f');

/**
 * Never a 500. With `fromLibrary`, a 4xx that reached the app (Node's own HTTP
 * parser answers malformed header bytes itself, without a Content-Type) is
 * the library's problem+json.
 */
function expectCleanAnswer(response: RawResponse, fromLibrary: boolean): void {
  expect(response.status).toBeGreaterThanOrEqual(200);
  expect(response.status).toBeLessThan(500);
  if (fromLibrary && response.status >= 400 && response.headers['content-type']) {
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(response.body)).toMatchObject({ status: response.status, detail: expect.any(String) });
  }
}

describe.each(ADAPTERS)('bad input, property-based (%s)', (adapter) => {
  let database: TestDatabase;
  let app: INestApplication;
  let port: number;
  let dataSource: DataSource;
  let sequence = 0;
  const unique = (text: string) => `${++sequence}-${text}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await bootApp(adapter, [FixtureModule.forRoot(database.url)]);
    await app.listen(0, '127.0.0.1');
    port = app.getHttpServer().address().port;
    dataSource = app.get(DataSource);
    await dataSource.query(Executions.ddl);
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  const post = (headers: [string, string][], body = '{}', path = '/orders') =>
    rawRequest(port, 'POST', path, [['Content-Type', 'application/json'], ...headers], body);

  it('never answers 500 to a key of random Unicode, quotes and SQL metacharacters (0 to 1,000 characters)', async () => {
    const metacharacters = fc.constantFrom("'", '"', ';', '--', '\\', '%', '_', '/*', '*/', '\0', '$1', ' OR 1=1');
    const key = fc
      .array(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), metacharacters, fc.string({ maxLength: 40 })), {
        maxLength: 40,
      })
      .map((parts) => parts.join('').slice(0, 1000));
    await fc.assert(
      fc.asyncProperty(key, async (raw) => {
        const response = await post([['Idempotency-Key', raw]]);
        // Control characters are refused by the HTTP parser (Node's, or Fastify's client error handler) before the app.
        expectCleanAnswer(response, ![...raw].some(isControlCharacter));
        if (response.status === 201) expect(isValidBareKey(raw.trim()) || raw.trim().startsWith('"')).toBe(true);
      }),
      { numRuns: 800 },
    );
  });

  it('stores a valid key with SQL metacharacters exactly and replays only to that key', async () => {
    const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 200 });
    await fc.assert(
      fc.asyncProperty(printable, async (text) => {
        const key = unique(text).slice(0, 255);
        fc.pre(!key.startsWith('"'));
        const first = await post([['Idempotency-Key', key]]);
        expect(first.status).toBe(201);
        const rows = await dataSource.query('SELECT key FROM idempotency_records WHERE key = $1', [key]);
        expect(rows).toEqual([{ key }]);
        const retry = await post([['Idempotency-Key', key]]);
        expect(retry.headers['idempotent-replayed']).toBe('true');
        expect(retry.body).toBe(first.body);
      }),
      { numRuns: 300 },
    );
  });

  it('answers 400 problem+json to two Idempotency-Key headers in one request', async () => {
    const response = await post([
      ['Idempotency-Key', unique('a')],
      ['Idempotency-Key', unique('b')],
    ]);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(response.body).detail).toMatch(/once/);
  });

  it('answers 400 problem+json to a body nested too deeply to fingerprint', async () => {
    const response = await post([['Idempotency-Key', unique('nested')]], `${'['.repeat(20_000)}${']'.repeat(20_000)}`);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(response.body).type).toBe('urn:nestjs-idempotency:request-not-fingerprintable');
  });

  it.each([
    ['a huge JSON body', JSON.stringify({ data: 'x'.repeat(2_000_000) })],
    ['malformed JSON', '{"a": '],
    ['a non-JSON body declared as JSON', 'hello world'],
  ])('answers %s with the body parser\'s 4xx, never a 500, and runs nothing', async (_case, body) => {
    const before = await app.get(Executions).count('orders');
    const response = await post([['Idempotency-Key', unique('body')]], body);
    expectCleanAnswer(response, false);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(await app.get(Executions).count('orders')).toBe(before);
  });

  it('never replays across keys, scopes or principals', async () => {
    const identity = fc.record({
      key: fc.constantFrom('k1', 'k2', "k'3"),
      user: fc.constantFrom(undefined, 'alice', 'bob'),
      path: fc.constantFrom('/orders', '/payments'),
    });
    const round = unique('round');
    const seen = new Map<string, string>();
    await fc.assert(
      fc.asyncProperty(identity, async ({ key, user, path }) => {
        const headers: [string, string][] = [['Idempotency-Key', `${round}-${key}`]];
        if (user) headers.push(['X-User', user]);
        const response = await post(headers, '{}', path);
        expect([200, 201]).toContain(response.status);
        const id = `${key}|${user}|${path}`;
        const execution = String(JSON.parse(response.body).execution);
        for (const [otherId, otherExecution] of seen) {
          if (otherId !== id) expect(execution).not.toBe(otherExecution);
        }
        if (seen.has(id)) expect(execution).toBe(seen.get(id));
        seen.set(id, execution);
      }),
      { numRuns: 300 },
    );
  });
});
