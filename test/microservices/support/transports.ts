import { headers } from '@nats-io/transport-node';
import type { INestMicroservice } from '@nestjs/common';
import {
  ClientNats,
  ClientRMQ,
  ClientTCP,
  NatsRecordBuilder,
  RmqRecordBuilder,
  ServerNats,
  ServerRMQ,
  ServerTCP,
  type ClientProxy,
  type Server,
} from '@nestjs/microservices';
import { NATS_URL, RABBITMQ_URL } from './brokers.js';
import { tcpPort } from './microservice.js';
import { requestIdKey, type TestMessage } from './message.controller.js';

/** A server of any transport (each has its own event and status types): what the tests use of it. */
export interface AnyServer extends Pick<Server, 'listen' | 'close'> {
  setOnProcessingEndHook(hook: () => void): void;
}
/** A client of any transport: what the tests use of it. */
export type AnyClient = Pick<ClientProxy, 'connect' | 'close' | 'send' | 'emit'>;

/** The NATS header whose value the library takes as the key. */
const NATS_MESSAGE_ID = 'Nats-Msg-Id';

/**
 * One transport under test: how its server listens, how a client reaches it,
 * and how a message carries its id (the key, where the transport has ids).
 */
export interface MessageTransport {
  name: string;
  /** The `key` option of the handlers: set where messages carry no id. */
  key?: typeof requestIdKey;
  /** A new server (the strategy of the microservice). */
  server(): AnyServer;
  /** A client of the server of `app`, once it listens. */
  client(app: INestMicroservice): AnyClient;
  /** The message to send: `data`, carrying `id` as its message id where the transport has one. */
  message(data: TestMessage, id: string): unknown;
}

export const TCP_HOST = '127.0.0.1';

/** TCP: no message ids, the key comes from the data (`key` option). Port 0: any free port. */
export function tcpTransport(): MessageTransport {
  return {
    name: 'TCP',
    key: requestIdKey,
    server: () => new ServerTCP({ host: TCP_HOST, port: 0 }),
    client: (app) => new ClientTCP({ host: TCP_HOST, port: tcpPort(app) }),
    message: (data) => data,
  };
}

/** RabbitMQ on `queue`: the key is the AMQP `messageId`. */
export function rmqTransport(queue: string, queueOptions: object, noAck = true): MessageTransport {
  const options = { urls: [RABBITMQ_URL], queue, queueOptions };
  return {
    name: 'RabbitMQ',
    server: () => new ServerRMQ({ ...options, noAck }),
    client: () => new ClientRMQ(options),
    message: (data, id) => new RmqRecordBuilder(data).setOptions({ messageId: id }).build(),
  };
}

/** NATS: the key is the `Nats-Msg-Id` header. */
export function natsTransport(): MessageTransport {
  return {
    name: 'NATS',
    server: () => new ServerNats({ servers: [NATS_URL] }),
    client: () => new ClientNats({ servers: [NATS_URL] }),
    message: (data, id) => {
      const h = headers();
      h.set(NATS_MESSAGE_ID, id);
      return new NatsRecordBuilder(data).setHeaders(h).build();
    },
  };
}
