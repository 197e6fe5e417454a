import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { ADAPTERS } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { FidelityAppModule, PASSWORD_HASH, WrapInterceptor, WrappedAppModule } from './fixtures/replay-fidelity.app.js';
import { RunLog } from './fixtures/run-log.js';
import { bootRealApp } from './support/boot.js';
import { newKey, rawBody, recordsOf } from './support/requests.js';

/** A hanging replay fails fast instead of at the test timeout. */
const RESPONSE_TIMEOUT_MS = 3_000;

/** What the first client got, compared byte for byte with a replay. */
interface Answer {
  status: number;
  contentType: string | undefined;
  replayed: string | undefined;
  body: Buffer;
  headers: Record<string, string>;
}

async function answer(call: request.Test): Promise<Answer> {
  const response = await call.buffer(true).parse(rawBody).timeout(RESPONSE_TIMEOUT_MS);
  return {
    status: response.status,
    contentType: response.headers['content-type'],
    replayed: response.headers['idempotent-replayed'],
    body: response.body as Buffer,
    headers: response.headers,
  };
}

/** The headers replayed by default (the `replayHeaders` option). */
const DEFAULT_REPLAY_HEADERS = ['content-type', 'location', 'etag', 'last-modified', 'cache-control', 'content-language'];

/**
 * The replay has the first answer's status, content type, replayed headers
 * (`replayHeaders` of the route) and exact bytes, and says it is a replay.
 */
function expectReplayOf(replay: Answer, first: Answer, replayHeaders = DEFAULT_REPLAY_HEADERS): void {
  expect(first.replayed).toBeUndefined();
  expect(replay.replayed).toBe('true');
  expect(replay.status).toBe(first.status);
  expect(replay.contentType).toBe(first.contentType);
  expect(replay.body.toString('latin1')).toBe(first.body.toString('latin1'));
  for (const name of replayHeaders) {
    expect([name, replay.headers[name]]).toEqual([name, first.headers[name]]);
  }
}

describe.each(ADAPTERS)('replays are what the first client got (%s)', (adapter) => {
  let database: TestDatabase;
  let app: INestApplication;
  let wrapped: INestApplication;
  let doublyWrapped: INestApplication;
  let runs: RunLog;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await bootRealApp(adapter, [FidelityAppModule.forRoot(database.url)]);
    wrapped = await bootRealApp(adapter, [WrappedAppModule.forRoot(database.url)]);
    doublyWrapped = await bootRealApp(adapter, [WrappedAppModule.forRoot(database.url)], {
      configure: (nest) => void nest.useGlobalInterceptors(new WrapInterceptor('result')),
    });
    runs = app.get(RunLog);
  });

  afterAll(async () => {
    await app?.close();
    await wrapped?.close();
    await doublyWrapped?.close();
    await database?.drop();
  });

  const twice = async (target: INestApplication, path: string, key = newKey()) => {
    const send = () => answer(request(target.getHttpServer()).post(path).set('Idempotency-Key', key).send({ n: 1 }));
    const first = await send();
    const replay = await send();
    return { first, replay, key };
  };

  it('ClassSerializerInterceptor as APP_INTERCEPTOR: the @Exclude()d passwordHash is neither sent, nor replayed, nor stored', async () => {
    const { first, replay, key } = await twice(app, '/fidelity/accounts');
    expect(first.status).toBe(201);
    const sent = JSON.parse(first.body.toString('utf8'));
    expect(sent).toEqual({ id: expect.any(Number), email: `user${sent.id}@example.com` });
    expectReplayOf(replay, first);
    expect(replay.body.toString('utf8')).not.toContain('passwordHash');
    expect(runs.count('accounts')).toBe(sent.id);
    const [record] = await recordsOf(app, key);
    expect(record.response_body).not.toBeNull();
    expect(record.response_body!.toString('utf8')).not.toContain(PASSWORD_HASH);
    expect(record.response_body!.toString('utf8')).not.toContain('passwordHash');
  });

  it('a handler returning a Date: the replay is the first answer, whatever the adapter made of it', async () => {
    const before = runs.count('dates');
    const { first, replay } = await twice(app, '/fidelity/dates');
    expect(first.status).toBe(201);
    expect(first.body.toString('utf8')).toContain('2024-01-02T03:04:05.678Z');
    expectReplayOf(replay, first);
    expect(runs.count('dates')).toBe(before + 1);
  });

  it('@Res({ passthrough: true }) with res.status(404) and a returned string: replayed as that 404 string, not as an exception', async () => {
    const before = runs.count('missing');
    const { first, replay } = await twice(app, '/fidelity/missing');
    expect(first.status).toBe(404);
    expect(first.body.toString('utf8')).toMatch(/^no such order \(execution \d+\)$/);
    expectReplayOf(replay, first);
    expect(runs.count('missing')).toBe(before + 1);
  });

  it.each([
    ['its own @UseFilters() filter', '/fidelity/charges', 'route', /^card-declined-\d+$/],
    ['an APP_FILTER', '/fidelity/debits', 'global', /^insufficient-funds-\d+$/],
  ])(
    'an HttpException subclass (402) rendered by %s with a custom body and X-Error-Code: replayed with that body and header',
    async (_filter, path, renderedBy, code) => {
      const route = path.split('/')[2];
      const before = runs.count(route);
      const { first, replay } = await twice(app, path);
      expect(first.status).toBe(402);
      expect(first.headers['x-error-code']).toMatch(code);
      expect(JSON.parse(first.body.toString('utf8'))).toEqual({
        error: { code: first.headers['x-error-code'], message: 'Top up your balance', renderedBy },
      });
      expectReplayOf(replay, first, ['content-type', 'x-error-code']);
      expect(runs.count(route)).toBe(before + 1);
    },
  );

  it('@Res() without passthrough: the response the handler wrote itself (201) is replayed identically, not left hanging', async () => {
    const before = runs.count('manual');
    const { first, replay } = await twice(app, '/fidelity/manual');
    expect(first.status).toBe(201);
    expect(JSON.parse(first.body.toString('utf8'))).toEqual({ execution: before + 1, manual: true });
    expect(first.headers.location).toBe(`/fidelity/manual/${before + 1}`);
    expectReplayOf(replay, first);
    expect(runs.count('manual')).toBe(before + 1);
  });

  it('a response-wrapping APP_INTERCEPTOR ({ data }): the replay is identical, not wrapped twice', async () => {
    const { first, replay } = await twice(wrapped, '/wrapped/orders');
    expect(first.status).toBe(201);
    expect(JSON.parse(first.body.toString('utf8'))).toEqual({ data: { execution: 1, items: ['book'] } });
    expectReplayOf(replay, first);
    expect(wrapped.get(RunLog).count('wrapped')).toBe(1);
  });

  it('wrapping interceptors on both sides of the library (APP_INTERCEPTOR { data } and useGlobalInterceptors { result }): the replay is identical', async () => {
    const { first, replay } = await twice(doublyWrapped, '/wrapped/orders');
    expect(first.status).toBe(201);
    expect(JSON.parse(first.body.toString('utf8'))).toEqual({ data: { result: { execution: 1, items: ['book'] } } });
    expectReplayOf(replay, first);
    expect(doublyWrapped.get(RunLog).count('wrapped')).toBe(1);
  });
});
