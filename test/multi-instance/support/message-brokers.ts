/**
 * The test's side of the brokers in the message-storm tests: a scratch
 * RabbitMQ queue it inspects and deletes, and the publishers (Nest's own
 * clients, as an app would send): copies of one message with one id,
 * sent concurrently, and a NATS caller that retries until answered.
 */
import { headers } from '@nats-io/transport-node';
import { ClientNats, ClientRMQ, NatsRecordBuilder, RmqRecordBuilder } from '@nestjs/microservices';
import amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';
import { lastValueFrom, timeout, TimeoutError } from 'rxjs';
import type { EffectData, EffectReply } from './message-ipc.js';

export const RABBITMQ_URL = process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672';
export const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';

/** The NATS header that carries a message's id (the library reads it as the key). */
const NATS_MESSAGE_ID = 'Nats-Msg-Id';
/** The options of the scratch queue, the same for the test, its publishers and its consumers. */
const QUEUE_OPTIONS = { durable: false };

/** A name nothing else uses, e.g. `message-storm-rabbitmq-1f0c…`. */
export function scratchName(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

/** A RabbitMQ queue of this test run only: counted over AMQP, deleted at the end. */
export class ScratchQueue {
  private constructor(
    readonly name: string,
    private readonly connection: amqplib.ChannelModel,
    private readonly channel: amqplib.Channel,
  ) {}

  static async create(prefix: string): Promise<ScratchQueue> {
    const connection = await amqplib.connect(RABBITMQ_URL);
    const channel = await connection.createChannel();
    const name = scratchName(prefix);
    await channel.assertQueue(name, QUEUE_OPTIONS);
    return new ScratchQueue(name, connection, channel);
  }

  /** Messages ready for delivery, and consumers attached (unacknowledged deliveries are in neither). */
  async depth(): Promise<{ ready: number; consumers: number }> {
    const { messageCount, consumerCount } = await this.channel.checkQueue(this.name);
    return { ready: messageCount, consumers: consumerCount };
  }

  /** A publisher of this queue: Nest's RabbitMQ client. */
  async client(): Promise<ClientRMQ> {
    const client = new ClientRMQ({ urls: [RABBITMQ_URL], queue: this.name, queueOptions: QUEUE_OPTIONS });
    await client.connect();
    return client;
  }

  /** Deletes the queue (with whatever it still holds) and closes the connection. */
  async delete(): Promise<void> {
    await this.channel.deleteQueue(this.name);
    await this.connection.close();
  }
}

function rmqRecord(data: EffectData, messageId: string) {
  return new RmqRecordBuilder(data).setOptions({ messageId }).build();
}

/** Publishes `copies` copies of one event (`messageId` its AMQP message id) all at once. */
export async function emitCopies(client: ClientRMQ, pattern: string, data: EffectData, messageId: string, copies: number): Promise<void> {
  const emit = () => lastValueFrom(client.emit(pattern, rmqRecord(data, messageId)), { defaultValue: undefined });
  await Promise.all(Array.from({ length: copies }, emit));
}

/** Sends `copies` copies of one request (one AMQP message id) all at once; resolves every reply. */
export function sendCopies(
  client: ClientRMQ,
  pattern: string,
  data: EffectData,
  messageId: string,
  copies: number,
): Promise<EffectReply[]> {
  return Promise.all(Array.from({ length: copies }, () => lastValueFrom(client.send<EffectReply>(pattern, rmqRecord(data, messageId)))));
}

/** Nest's NATS client, connected. */
export async function natsClient(): Promise<ClientNats> {
  const client = new ClientNats({ servers: [NATS_URL] });
  await client.connect();
  return client;
}

/** One NATS request carrying `messageId` as its `Nats-Msg-Id` header; rejects after `timeoutMs` without a reply. */
export function natsRequest(
  client: ClientNats,
  subject: string,
  data: EffectData,
  messageId: string,
  timeoutMs: number,
): Promise<EffectReply> {
  const h = headers();
  h.set(NATS_MESSAGE_ID, messageId);
  return lastValueFrom(client.send<EffectReply>(subject, new NatsRecordBuilder(data).setHeaders(h).build()).pipe(timeout(timeoutMs)));
}

/** An `RpcException` error of the library, as a `send()` caller receives it. */
interface RefusalError {
  code: string;
  retryAfterSeconds?: number;
}

function isInFlight(error: unknown): error is RefusalError {
  return (error as RefusalError | undefined)?.code === 'IDEMPOTENCY_KEY_IN_FLIGHT';
}

/** How a retried NATS request ended: its reply, and what the attempts before it got. */
export interface RetriedRequest {
  reply: EffectReply;
  timeouts: number;
  inFlight: number;
}

/**
 * A caller that wants its answer: sends the request (same `Nats-Msg-Id`
 * each time) and, when no reply comes within `timeoutMs` (its consumer
 * died: NATS core does not redeliver) or the reply is "still in flight"
 * (the consumer already waited for the first run's outcome), sends it again,
 * until it gets an answer; gives up after `deadlineMs`.
 */
export async function requestUntilAnswered(
  client: ClientNats,
  subject: string,
  data: EffectData,
  messageId: string,
  { timeoutMs, deadlineMs = 20_000 }: { timeoutMs: number; deadlineMs?: number },
): Promise<RetriedRequest> {
  const deadline = Date.now() + deadlineMs;
  let timeouts = 0;
  let inFlight = 0;
  for (;;) {
    try {
      return { reply: await natsRequest(client, subject, data, messageId, timeoutMs), timeouts, inFlight };
    } catch (error) {
      if (error instanceof TimeoutError) timeouts++;
      else if (isInFlight(error)) inFlight++;
      else throw error;
      if (Date.now() > deadline) {
        const attempts = `${timeouts} timeouts, ${inFlight} in flight`;
        throw new Error(`no answer to ${messageId} within ${deadlineMs} ms (${attempts})`, { cause: error });
      }
    }
  }
}
