import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { DataSource } from 'typeorm';
import { ADAPTERS, bootApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { Executions } from '../fixtures/executions.js';
import { FixtureModule } from '../fixtures/fixture.module.js';
import { Gate } from '../fixtures/gate.js';

const PARALLEL = 50;
const PROBLEM_JSON = /^application\/problem\+json/;
let keySequence = 0;
const newKey = () => `concurrent-${process.pid}-${++keySequence}`;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Resolves once `count` of `promises` have settled. */
function settled(promises: Promise<unknown>[], count: number): Promise<void> {
  let done = 0;
  return new Promise((resolve) => {
    if (count <= 0) resolve();
    for (const promise of promises) {
      void promise.finally(() => {
        if (++done === count) resolve();
      });
    }
  });
}

/** Asserts that `answer` is the 409 problem an in-flight key gets. */
function expectInFlightProblem(answer: Answer): void {
  expect(answer.status).toBe(409);
  expect(answer.headers['content-type']).toMatch(PROBLEM_JSON);
  expect(answer.headers['retry-after']).toMatch(/^[1-9]\d*$/);
  expect(answer.headers['idempotent-replayed']).toBeUndefined();
  expect(JSON.parse(answer.body.toString())).toMatchObject({
    status: 409,
    type: 'urn:nestjs-idempotency:key-in-flight',
  });
}

/** Asserts that `answer` replays `original`: same status, same bytes, same replayable headers. */
function expectReplayOf(answer: Answer, original: Answer): void {
  expect(answer.headers['idempotent-replayed']).toBe('true');
  expect(answer.status).toBe(original.status);
  expect(answer.body.equals(original.body)).toBe(true);
  for (const name of ['content-type', 'location']) {
    expect([name, answer.headers[name]]).toEqual([name, original.headers[name]]);
  }
}

/**
 * Many simultaneous requests with one key, on a real listening server with one
 * connection per request (a keep-alive agent with 50 sockets, opened before
 * the burst so that the 50 requests leave together).
 */
describe.each(ADAPTERS)('concurrent requests with one key (%s)', (adapter) => {
  let database: TestDatabase;
  let app: INestApplication;
  let executions: Executions;
  let origin: URL;
  const agent = new Agent({ keepAlive: true, maxSockets: PARALLEL });

  const send = (method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = httpRequest(new URL(path, origin), { method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });

  const post = (path: string, key: string, body: unknown = {}) =>
    send('POST', path, { 'Idempotency-Key': key, 'Content-Type': 'application/json' }, JSON.stringify(body));

  /** Opens all the agent's sockets, so that the next burst does not wait for connections. */
  const warmUp = async () => {
    const answers = await Promise.all(Array.from({ length: PARALLEL }, () => send('GET', '/warm-up', {})));
    expect(answers.map((a) => a.status)).toEqual(Array(PARALLEL).fill(404));
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await bootApp(adapter, [FixtureModule.forRoot(database.url)]);
    await app.get(DataSource).query(Executions.ddl);
    executions = app.get(Executions);
    await app.listen(0, '127.0.0.1');
    origin = new URL(await app.getUrl());
  });

  afterAll(async () => {
    agent.destroy();
    await app?.close();
    await database?.drop();
  });

  it('runs a held handler once while the 49 others get 409 with Retry-After, then replays it byte for byte', async () => {
    const key = newKey();
    const gate = app.get(Gate);
    await warmUp();

    const burst = Array.from({ length: PARALLEL }, () => post('/slow', key));
    // Hold the handler until every other request has been answered. Should a
    // second request reach the handler, or none, stop holding so the
    // assertions below fail instead of the test hanging.
    await Promise.race([
      gate.arrived(1).then(() => settled(burst, PARALLEL - 1)),
      gate.arrived(2),
      settled(burst, PARALLEL),
    ]);
    gate.open();
    const answers = await Promise.all(burst);

    expect(await executions.count('slow')).toBe(1);
    const originals = answers.filter((a) => a.status === 201);
    expect(originals).toHaveLength(1);
    const [original] = originals;
    expect(original.headers['idempotent-replayed']).toBeUndefined();
    expect(JSON.parse(original.body.toString())).toEqual({ execution: expect.any(Number) });
    const others = answers.filter((a) => a !== original);
    expect(others).toHaveLength(PARALLEL - 1);
    others.forEach(expectInFlightProblem);

    const retry = await post('/slow', key);
    expectReplayOf(retry, original);
    expect(await executions.count('slow')).toBe(1);
  });

  it('runs a free-running handler once when 50 requests race: each answer is the original, a 409 or its replay', async () => {
    for (let round = 0; round < 5; round++) {
      const key = newKey();
      const payload = { round, item: 'book' };
      const before = await executions.count('orders');
      await warmUp();

      // The moment the original answer arrives, 50 more requests with the key
      // leave together, while the tail of the first burst may still be in flight.
      let retries: Promise<Answer[]> | undefined;
      const isOriginal = (a: Answer) => a.status === 201 && a.headers['idempotent-replayed'] === undefined;
      const sendAll = () => Array.from({ length: PARALLEL }, () => post('/orders', key, payload));
      const burst = sendAll().map((answer) =>
        answer.then((a) => {
          if (isOriginal(a)) retries ??= Promise.all(sendAll());
          return a;
        }),
      );
      const answers = await Promise.all(burst);

      const originals = answers.filter(isOriginal);
      expect(originals).toHaveLength(1);
      const [original] = originals;
      expect(JSON.parse(original.body.toString())).toMatchObject({ execution: expect.any(Number), body: payload });
      for (const answer of answers.filter((a) => a !== original)) {
        if (answer.status === 409) expectInFlightProblem(answer);
        else expectReplayOf(answer, original);
      }
      (await retries!).forEach((retry) => expectReplayOf(retry, original));
      expect(await executions.count('orders')).toBe(before + 1);
    }
  });
});
