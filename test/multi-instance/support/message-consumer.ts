/**
 * Entry of one consumer process of the message-storm tests, run by
 * message-consumers.ts (`node --import ./register-ts.mjs`): a Nest
 * microservice on RabbitMQ (Transport.RMQ, manual acknowledgements) or NATS
 * (a queue group), reading message-ipc.ts `ConsumerEnv`; tells the test when
 * it listens, and closes on `stop`.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { IpcLogger } from '../worker/ipc.js';
import type { Broker, ConsumerMessage, StopMessage } from './message-ipc.js';
import { MessageConsumerModule } from './message-consumer.module.js';
import { ObservedServerNats, ObservedServerRMQ } from './message-consumer-servers.js';

// The test is gone (or killed us): do not linger.
process.on('disconnect', () => process.exit(0));

const { DATABASE_URL, LOCK_TIMEOUT_MS, MESSAGE_BROKER, MESSAGE_BROKER_URL, MESSAGE_QUEUE } = process.env;
if (!DATABASE_URL || !LOCK_TIMEOUT_MS || !MESSAGE_BROKER_URL || !MESSAGE_QUEUE) {
  throw new Error('DATABASE_URL, LOCK_TIMEOUT_MS, MESSAGE_BROKER_URL and MESSAGE_QUEUE must be set');
}
if (MESSAGE_BROKER !== 'rabbitmq' && MESSAGE_BROKER !== 'nats') {
  throw new Error(`MESSAGE_BROKER must be "rabbitmq" or "nats", not "${MESSAGE_BROKER}"`);
}
const broker: Broker = MESSAGE_BROKER;

const server =
  broker === 'rabbitmq'
    ? new ObservedServerRMQ({
        urls: [MESSAGE_BROKER_URL],
        queue: MESSAGE_QUEUE,
        queueOptions: { durable: false },
        noAck: false,
        prefetchCount: 0,
      })
    : new ObservedServerNats({ servers: [MESSAGE_BROKER_URL], queue: MESSAGE_QUEUE });

const app = await NestFactory.createMicroservice<MicroserviceOptions>(
  MessageConsumerModule.forRoot(DATABASE_URL, Number(LOCK_TIMEOUT_MS), broker),
  { strategy: server, logger: new IpcLogger(), abortOnError: false },
);
await app.listen();
// NATS: the server has the queue group's subscriptions once it answers a ping. (RabbitMQ's
// consumer is registered asynchronously: the test waits for the queue to count it.)
if (server instanceof ObservedServerNats) await server.unwrap<NatsConnection>().flush();

process.on('message', (message: StopMessage) => {
  if (message?.type !== 'stop') return;
  app.close().finally(() => process.exit(0));
});
process.send?.({ type: 'ready' } satisfies ConsumerMessage);
