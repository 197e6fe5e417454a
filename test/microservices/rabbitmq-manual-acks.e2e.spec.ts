import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestMicroservice } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { DataSource } from 'typeorm';
import { Executions } from '../fixtures/executions.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { scratchName, ScratchQueues } from './support/brokers.js';
import { AckingController } from './support/acking.controller.js';
import { Deliveries } from './support/deliveries.js';
import type { TestMessage, TestReply } from './support/message.controller.js';
import { MessageModule } from './support/message.module.js';
import { bootMicroservice } from './support/microservice.js';
import { rmqTransport, type AnyClient, type MessageTransport } from './support/transports.js';

/**
 * RabbitMQ with manual acknowledgements (server `noAck: false`, module
 * `rmq: { noAck: false }`): the library settles the messages it answers
 * without their handler. Each test runs its own consumer, then stops it (its
 * unacknowledged deliveries go back to the queue) and counts the queue.
 */
describe('@Idempotent() on RabbitMQ with manual acknowledgements', () => {
  let database: TestDatabase;
  let queues: ScratchQueues;
  let rmq: MessageTransport;
  let app: INestMicroservice | undefined;
  let client: AnyClient;
  let deliveries: Deliveries;
  const key = () => scratchName('ack');
  const message = (data: TestMessage) => rmq.message(data, data.requestId);

  beforeAll(async () => {
    database = await createTestDatabase();
    queues = await ScratchQueues.create('ms-rabbitmq-acks');
    rmq = rmqTransport(queues.name, queues.options, false);
  });

  beforeEach(async () => {
    const server = rmq.server();
    deliveries = new Deliveries(server);
    app = await bootMicroservice([MessageModule.forRoot(database.url, [AckingController], { rmq: { noAck: false } })], server);
    await app.get(DataSource).query(Executions.ddl);
    client = rmq.client(app);
    await client.connect();
  });

  afterEach(async () => {
    await client?.close();
    await app?.close();
  });

  afterAll(async () => {
    await queues?.delete();
    await database?.drop();
  });

  /** Stops the consumer, then what is left: messages in the queue (unacknowledged ones came back), and dead letters. */
  async function leftOver() {
    await client.close();
    await app!.close();
    app = undefined;
    return { ...(await queues.depth()), deadLettered: await queues.deadLettered() };
  }

  it('acknowledges a duplicate event it skips: the queue ends empty, nothing dead-lettered', async () => {
    const requestId = key();
    const executions = app!.get(Executions);
    await lastValueFrom(client.emit('shipped', message({ requestId })), { defaultValue: undefined });
    await lastValueFrom(client.emit('shipped', message({ requestId })), { defaultValue: undefined });
    await deliveries.reached(2);
    expect(await executions.count(`shipped:${requestId}`)).toBe(1);
    expect(await leftOver()).toEqual({ ready: 0, consumers: 0, deadLettered: 0 });
  });

  it('acknowledges a duplicate request it answers with the stored reply', async () => {
    const requestId = key();
    const executions = app!.get(Executions);
    const first = await lastValueFrom(client.send<TestReply>('charge', message({ requestId, n: 1 })));
    const replay = await lastValueFrom(client.send<TestReply>('charge', message({ requestId, n: 1 })));
    expect(replay).toEqual(first);
    expect(await executions.count(`charge:${requestId}`)).toBe(1);
    expect(await leftOver()).toEqual({ ready: 0, consumers: 0, deadLettered: 0 });
  });

  it('rejects without requeue (dead-letters) a message whose key came with another payload', async () => {
    const requestId = key();
    await lastValueFrom(client.send('charge', message({ requestId, n: 1 })));
    await expect(lastValueFrom(client.send('charge', message({ requestId, n: 2 })))).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    const dead = await leftOver();
    expect(dead).toEqual({ ready: 0, consumers: 0, deadLettered: 1 });
  });
});
