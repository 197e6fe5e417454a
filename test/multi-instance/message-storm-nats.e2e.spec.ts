import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { ClientNats } from '@nestjs/microservices';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { NATS_URL, natsClient, natsRequest, requestUntilAnswered, scratchName } from './support/message-brokers.js';
import { ConsumerGroup } from './support/message-consumers.js';
import { statusesOf, workersOf } from './support/message-records.js';
import { SharedDatabase } from './support/shared-database.js';

// Issue #10's acceptance on NATS: 3 consumer processes (Nest microservices,
// Transport.NATS) in one queue group on a scratch subject, sharing one
// PostgreSQL; the key is the request's `Nats-Msg-Id` header. NATS core does
// not redeliver: a request whose consumer died is sent again by its caller
// (same Nats-Msg-Id) when it times out.
const LOCK_TIMEOUT_MS = 1_000;
const COPIES = 30;
/** How long a storm's handler runs: the copies delivered meanwhile meet it in flight and wait for its outcome. */
const HANDLER_MS = 200;
/** A caller's patience: longer than a duplicate waits for the first run (lockTimeout), so only a dead consumer times out. */
const REQUEST_TIMEOUT_MS = 2_500;

describe('multi-instance: a request storm on NATS (3 consumer processes in a queue group, one PostgreSQL)', () => {
  let database: TestDatabase;
  let shared: SharedDatabase;
  let client: ClientNats;
  let consumers: ConsumerGroup;
  const prefix = scratchName('message-storm-nats');
  const REQUEST = `${prefix}.request`;

  beforeAll(async () => {
    Logger.overrideLogger(['warn', 'error']); // not the clients' connection logs
    database = await createTestDatabase();
    shared = await SharedDatabase.prepare(database.url);
    client = await natsClient();
  }, 30_000);

  beforeEach(async () => {
    consumers = await ConsumerGroup.start(3, {
      DATABASE_URL: database.url,
      LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS),
      MESSAGE_BROKER: 'nats',
      MESSAGE_BROKER_URL: NATS_URL,
      MESSAGE_QUEUE: scratchName('message-storm-nats-group'),
      MESSAGE_PATTERN_PREFIX: prefix,
    });
  }, 30_000);

  afterEach(async () => {
    await consumers?.stop();
  });

  afterAll(async () => {
    await client?.close();
    await shared?.close();
    await database?.drop();
  });

  /** The consumers a request of `messageId` reached. */
  const reached = (messageId: string) =>
    consumers.consumers.filter((c) => c.deliveries.some((d) => d.messageId === messageId)).map((c) => c.name);

  it(`${COPIES} copies of one request (one Nats-Msg-Id) sent at once → one effect, every caller the same reply`, async () => {
    const key = scratchName('request');
    const data = { order: 'o-request', delayMs: HANDLER_MS };
    const replies = await Promise.all(Array.from({ length: COPIES }, () => natsRequest(client, REQUEST, data, key, REQUEST_TIMEOUT_MS)));

    const [first] = replies;
    expect(first).toMatchObject({ key, order: 'o-request' });
    expect(replies.filter((reply) => JSON.stringify(reply) !== JSON.stringify(first))).toEqual([]);
    expect(await shared.idsByKey('effect', [key])).toEqual(new Map([[key, [first.effect]]]));
    expect(await workersOf(shared, 'entered', key)).toEqual([first.worker]); // the handler ran once: no copy even began a second run
    expect(await statusesOf(shared, key)).toEqual(['completed']);
    expect(consumers.deliveriesOf(key)).toBe(COPIES); // each copy went to one consumer of the group...
    expect(reached(key).length).toBeGreaterThanOrEqual(2); // ...and the storm met several
    expect(consumers.logs()).toEqual([]);
  });

  it("a consumer killed (kill -9) inside the handler: the caller's retry (same Nats-Msg-Id) runs on another consumer once the lease ran out → one effect, and the caller gets its reply", async () => {
    const key = scratchName('crash');
    const call = requestUntilAnswered(client, REQUEST, { order: 'o-crash', gate: true }, key, { timeoutMs: REQUEST_TIMEOUT_MS });
    const victim = await consumers.arrivedAt(key); // its handler claimed the key and waits before its effect
    expect(await workersOf(shared, 'entered', key)).toEqual([victim.name]);
    expect(await workersOf(shared, 'effect', key)).toEqual([]);

    await victim.crash();
    // Another caller of the same request meanwhile (it meets the victim's run in flight, or its lease over).
    const other = requestUntilAnswered(client, REQUEST, { order: 'o-crash', gate: true }, key, { timeoutMs: REQUEST_TIMEOUT_MS });
    const [{ reply, timeouts }, { reply: otherReply }] = await Promise.all([call, other]);

    expect(timeouts).toBeGreaterThanOrEqual(1); // the request the victim took was never answered
    expect(otherReply).toEqual(reply);
    expect(reply).toMatchObject({ key, order: 'o-crash' });
    expect(reply.worker).not.toBe(victim.name);
    expect(await shared.idsByKey('effect', [key])).toEqual(new Map([[key, [reply.effect]]])); // the one effect is the reply's
    expect(await workersOf(shared, 'entered', key)).toEqual([victim.name, reply.worker]); // the killed run and the one after it
    expect(await statusesOf(shared, key)).toEqual(['completed']);
    // The record replays that reply to a later retry, wherever it lands.
    expect(await natsRequest(client, REQUEST, { order: 'o-crash', gate: true }, key, REQUEST_TIMEOUT_MS)).toEqual(reply);
    expect(await workersOf(shared, 'effect', key)).toEqual([reply.worker]);
    // A survivor that met the victim's run still in flight answered "in flight" (the caller retried): nothing else.
    const errors = consumers.alive.flatMap((c) => c.logs.filter((log) => log.level === 'error'));
    expect(errors.filter((log) => !log.message.includes('IDEMPOTENCY_KEY_IN_FLIGHT'))).toEqual([]);
  });
});
