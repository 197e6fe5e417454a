import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { ClientRMQ } from '@nestjs/microservices';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { emitCopies, RABBITMQ_URL, ScratchQueue, scratchName, sendCopies } from './support/message-brokers.js';
import { BrokerProxy } from './support/message-broker-proxy.js';
import { ConsumerGroup, MessageConsumer } from './support/message-consumers.js';
import type { ConsumerEnv } from './support/message-ipc.js';
import { statusesOf, workersOf } from './support/message-records.js';
import { SharedDatabase } from './support/shared-database.js';
import { until } from './support/traffic.js';

// Issue #10's acceptance on RabbitMQ: a redelivery storm over 3 consumer
// processes (Nest microservices, Transport.RMQ, manual acknowledgements:
// `noAck: false` on the server and `rmq: { noAck: false }` in the module) on
// one scratch queue, sharing one PostgreSQL. Copies of one message (one AMQP
// messageId) have exactly one effect, and every delivery is settled: the
// handler acknowledges its own, the library the duplicates it answered, and
// requeues those that met the first run still in flight.
// Every test starts its own consumers and ends with them stopped: nothing may
// then be left in the queue (an unacknowledged delivery goes back to it).
const LOCK_TIMEOUT_MS = 1_000;
const COPIES = 30;
/** How long a storm's handler runs: the copies delivered meanwhile meet it in flight and wait for its outcome. */
const HANDLER_MS = 200;

describe('multi-instance: a redelivery storm on RabbitMQ (3 consumer processes, manual acks, one PostgreSQL)', () => {
  let database: TestDatabase;
  let shared: SharedDatabase;
  let queue: ScratchQueue;
  let client: ClientRMQ;
  let consumers: ConsumerGroup;
  const prefix = scratchName('message-storm-rabbitmq');
  const EVENT = `${prefix}.event`;
  const REQUEST = `${prefix}.request`;

  beforeAll(async () => {
    Logger.overrideLogger(['warn', 'error']); // not the clients' connection logs
    database = await createTestDatabase();
    shared = await SharedDatabase.prepare(database.url);
    queue = await ScratchQueue.create('message-storm-rabbitmq');
    client = await queue.client();
  }, 30_000);

  /** What every consumer of this suite reads, on the broker at `brokerUrl`. */
  const consumerEnv = (brokerUrl = RABBITMQ_URL): Omit<ConsumerEnv, 'WORKER_NAME'> => ({
    DATABASE_URL: database.url,
    LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS),
    MESSAGE_BROKER: 'rabbitmq',
    MESSAGE_BROKER_URL: brokerUrl,
    MESSAGE_QUEUE: queue.name,
    MESSAGE_PATTERN_PREFIX: prefix,
  });

  /** A consumer says it is ready before the broker registered it: resolves once the queue counts `count`. */
  const untilConsumers = (count: number) => until(async () => (await queue.depth()).consumers === count, `${count} consumers on the queue`);

  beforeEach(async () => {
    consumers = await ConsumerGroup.start(3, consumerEnv());
    await untilConsumers(3);
  }, 30_000);

  afterEach(async () => {
    await consumers?.stop();
  });

  afterAll(async () => {
    await client?.close();
    await queue?.delete();
    await shared?.close();
    await database?.drop();
  });

  /**
   * Resolves once `acks` deliveries of `messageId` were acknowledged, no live
   * consumer holds one unsettled, none is ready, and its record is no longer
   * in flight (a handler acknowledges its delivery before the library
   * completes the record).
   */
  async function untilAllAcknowledged(messageId: string, acks: number): Promise<void> {
    await until(
      async () =>
        (consumers.settlementsOf(messageId).ack ?? 0) >= acks &&
        consumers.unsettled().length === 0 &&
        (await queue.depth()).ready === 0 &&
        (await shared.processing([messageId])).length === 0,
      `${acks} acknowledgements of ${messageId}, nothing unsettled and its record completed`,
      20_000,
    );
    expect(await statusesOf(shared, messageId)).toEqual(['completed']);
  }

  /** Stops the consumers and checks that the broker got every settlement: nothing went back to the queue. */
  async function expectQueueDrained(): Promise<void> {
    await consumers.stop();
    await until(async () => (await queue.depth()).consumers === 0, 'the consumers to leave the queue');
    expect(await queue.depth()).toEqual({ ready: 0, consumers: 0 });
  }

  /** The consumers that got a delivery of `messageId`. */
  const reached = (messageId: string) =>
    consumers.consumers.filter((c) => c.deliveries.some((d) => d.messageId === messageId)).map((c) => c.name);

  const errors = () => consumers.logs().filter((log) => log.includes(' error]'));

  it(`@EventPattern: ${COPIES} copies of one message id published at once → one effect, every copy acknowledged`, async () => {
    const key = scratchName('event');
    await emitCopies(client, EVENT, { order: 'o-event', delayMs: HANDLER_MS }, key, COPIES);
    await untilAllAcknowledged(key, COPIES);

    expect(await shared.count('effect', key)).toBe(1);
    expect(await shared.count('entered', key)).toBe(1); // the handler ran once: no copy even began a second run
    const settled = consumers.settlementsOf(key);
    expect(settled).toEqual({ ack: COPIES, ...(settled.requeue && { requeue: settled.requeue }) }); // none rejected
    expect(consumers.deliveriesOf(key)).toBe(COPIES + (settled.requeue ?? 0)); // a requeued copy came back once more
    expect(reached(key)).toEqual(['c1', 'c2', 'c3']); // the storm met every consumer
    expect(errors()).toEqual([]);
    await expectQueueDrained();
  });

  it(`@MessagePattern: ${COPIES} copies of one request (one message id) sent at once → one effect, every caller the same reply, every copy acknowledged`, async () => {
    const key = scratchName('request');
    const replies = await sendCopies(client, REQUEST, { order: 'o-request', delayMs: HANDLER_MS }, key, COPIES);
    await untilAllAcknowledged(key, COPIES);

    const [first] = replies;
    expect(first).toMatchObject({ key, order: 'o-request' });
    expect(replies.filter((reply) => JSON.stringify(reply) !== JSON.stringify(first))).toEqual([]);
    expect(await shared.idsByKey('effect', [key])).toEqual(new Map([[key, [first.effect]]]));
    expect(await shared.count('entered', key)).toBe(1);
    const settled = consumers.settlementsOf(key);
    expect(settled).toEqual({ ack: COPIES, ...(settled.requeue && { requeue: settled.requeue }) });
    expect(reached(key)).toEqual(['c1', 'c2', 'c3']);
    expect(errors()).toEqual([]);
    await expectQueueDrained();
  });

  it('a consumer killed (kill -9) inside the handler: the broker redelivers, another consumer runs it once the lease ran out → one effect', async () => {
    const key = scratchName('crash');
    await emitCopies(client, EVENT, { order: 'o-crash', gate: true }, key, 1);
    const victim = await consumers.arrivedAt(key); // its handler claimed the key and waits before its effect
    expect(await workersOf(shared, 'entered', key)).toEqual([victim.name]);
    expect(await shared.count('effect', key)).toBe(0);

    await victim.crash();
    await untilAllAcknowledged(key, 1);

    const survivors = consumers.alive;
    expect(survivors).not.toContain(victim);
    const [runner] = await workersOf(shared, 'effect', key);
    expect(await workersOf(shared, 'effect', key)).toEqual([runner]); // exactly one effect...
    expect(survivors.map((c) => c.name)).toContain(runner); // ...by a survivor
    expect(await workersOf(shared, 'entered', key)).toEqual([victim.name, runner]); // the killed run and the one after it
    // The victim's delivery came back to the survivors as a redelivery; none was rejected.
    const redeliveries = survivors.flatMap((c) => c.deliveries.filter((d) => d.messageId === key));
    expect(redeliveries.length).toBeGreaterThanOrEqual(1);
    expect(redeliveries.every((d) => d.redelivered)).toBe(true);
    expect(consumers.settlementsOf(key)).toEqual({ ack: 1, requeue: redeliveries.length - 1 });
    expect(await shared.processing()).toEqual([]);
    // An event still in flight after its wait is logged (as an error) when it is requeued: nothing else.
    const survivorErrors = survivors.flatMap((c) => c.logs.filter((log) => log.level === 'error'));
    expect(survivorErrors.filter((log) => !log.message.includes('IDEMPOTENCY_KEY_IN_FLIGHT'))).toEqual([]);
    expect(survivorErrors).toHaveLength(redeliveries.length - 1);
    await expectQueueDrained();
  });

  it('a consumer whose broker connection drops while its copy waits for the first run survives, and the message still has one effect', async () => {
    const key = scratchName('connection-drop');
    const data = { order: 'o-drop', gate: true };
    await emitCopies(client, EVENT, data, key, 1);
    const first = await consumers.arrivedAt(key); // holds the key at its barrier

    // A fourth consumer, through a proxy the test cuts; copies go round until one reaches it.
    const proxy = await BrokerProxy.start(RABBITMQ_URL);
    const c4 = await MessageConsumer.start('c4', consumerEnv(proxy.url));
    try {
      await untilConsumers(4);
      for (let copies = 1; !c4.deliveries.some((d) => d.messageId === key); copies++) {
        if (copies > 12) throw new Error(`no copy of ${key} reached c4`);
        const before = consumers.deliveriesOf(key) + c4.deliveries.length;
        await emitCopies(client, EVENT, data, key, 1);
        await until(() => consumers.deliveriesOf(key) + c4.deliveries.length > before, 'the copy to be delivered');
      }
      // c4's copy waits for the first run's outcome; its connection (and the channel the copy came on) drops.
      const [copy] = c4.deliveries;
      proxy.cut();
      await until(() => c4.logs.some((log) => /disconnect/i.test(log.message)), 'c4 to see its connection drop');
      first.release(key);

      const c4Died = () => {
        if (!c4.alive) throw new Error(`c4 died:\n${c4.lastOutput}`);
        return false;
      };
      // c4 ends its copy's processing (the library's answer to it: the broker already took the copy back)...
      await until(() => c4Died() || c4.hasHandled(copy), "c4 to finish its copy's processing");
      // ...and the message is done: one effect, every copy acknowledged (a copy c4 held went back to the queue).
      await until(
        async () =>
          c4Died() ||
          ((await shared.count('effect', key)) === 1 &&
            (await statusesOf(shared, key)).join() === 'completed' &&
            (await queue.depth()).ready === 0 &&
            c4.unsettled().length === 0 &&
            consumers.unsettled().length === 0),
        `${key} done`,
      );
      expect(c4.alive).toBe(true);
      expect(await workersOf(shared, 'effect', key)).toEqual([first.name]);
      expect(await shared.count('entered', key)).toBe(1);
    } finally {
      await c4.stop();
      await proxy.close();
    }
    await expectQueueDrained();
  });
});
