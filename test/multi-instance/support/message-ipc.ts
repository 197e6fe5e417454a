/**
 * Messages between a message-storm test and its consumer processes (IPC, see
 * message-consumer.ts), besides those the HTTP workers also send
 * (messages.ts: `arrived`, `log`, `release`).
 */
import type { ArrivedMessage, LogMessage } from './messages.js';

/** Consumer → test: the microservice listens on the broker. */
export interface ConsumerReadyMessage {
  type: 'ready';
}

/** Consumer → test: the broker delivered a message to this consumer (RabbitMQ: on its `channel`-th channel). */
export interface DeliveredMessage {
  type: 'delivered';
  messageId: string;
  channel: number;
  deliveryTag: number;
  redelivered: boolean;
}

/**
 * Consumer → test (RabbitMQ): Nest finished processing a delivery (the
 * handler's stream, the library's answer included, completed or failed).
 */
export interface HandledMessage {
  type: 'handled';
  messageId: string;
  channel: number;
  deliveryTag: number;
}

/** Consumer → test (RabbitMQ): a channel closed (its connection dropped): the broker took back what it had not settled. */
export interface ChannelClosedMessage {
  type: 'channel-closed';
  channel: number;
}

/** How a delivery was settled: acknowledged, rejected back to the queue, rejected for good (dead-lettered). */
export type Settlement = 'ack' | 'requeue' | 'reject';

/** Consumer → test (RabbitMQ): a delivery was settled on its channel (by the handler or by the library). */
export interface SettledMessage {
  type: 'settled';
  messageId: string;
  channel: number;
  deliveryTag: number;
  settlement: Settlement;
}

export type ConsumerMessage =
  | ConsumerReadyMessage
  | ArrivedMessage
  | LogMessage
  | DeliveredMessage
  | SettledMessage
  | HandledMessage
  | ChannelClosedMessage;

/** Test → consumer: close the microservice (settling nothing more), then exit. */
export interface StopMessage {
  type: 'stop';
}

/** The brokers a consumer process can listen on. */
export type Broker = 'rabbitmq' | 'nats';

/** What every consumer process reads from its environment. */
export interface ConsumerEnv {
  /** PostgreSQL URL shared by every consumer of a test (records and `side_effects`). */
  DATABASE_URL: string;
  /** Name of the consumer in side effects and replies, e.g. `c1`. */
  WORKER_NAME: string;
  /** The module's `lockTimeout`, in ms. */
  LOCK_TIMEOUT_MS: string;
  MESSAGE_BROKER: Broker;
  /** amqp://… or nats://… */
  MESSAGE_BROKER_URL: string;
  /** RabbitMQ: the (scratch) queue every consumer reads; NATS: the queue group every consumer joins. */
  MESSAGE_QUEUE: string;
  /** Prefix of the patterns (NATS subjects), scratch per run: handlers listen on `<prefix>.event` and `<prefix>.request`. */
  MESSAGE_PATTERN_PREFIX: string;
}

/** The message every handler receives. */
export interface EffectData {
  order: string;
  /** The handler's first run of the key waits at its barrier (`arrived`) until the test releases it, or kills it. */
  gate?: boolean;
  /** The handler takes this long (ms) before its effect, so that concurrent copies meet its run in flight. */
  delayMs?: number;
}

/** What a `@MessagePattern` handler replies: one execution of it. */
export interface EffectReply {
  key: string;
  order: string;
  worker: string;
  pid: number;
  /** Id of the execution's `effect` row in `side_effects`. */
  effect: number;
  nonce: string;
}
