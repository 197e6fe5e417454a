import amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';

export const RABBITMQ_URL = process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672';
export const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';

/** A name nothing else uses (a queue, a subject prefix), e.g. `ms-tcp-1f0c…`. */
export function scratchName(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

/** The options of a scratch queue: not durable; rejected messages go to `deadLetters` when given. */
export function queueOptions(deadLetters?: string) {
  const args = deadLetters ? { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': deadLetters } : undefined;
  return { durable: false, ...(args && { arguments: args }) };
}

/**
 * RabbitMQ queues of this test run only, with a dead-letter queue: inspected
 * over AMQP (messages ready, consumers attached), deleted at the end.
 */
export class ScratchQueues {
  private constructor(
    readonly name: string,
    readonly deadLetters: string,
    private readonly connection: amqplib.ChannelModel,
    private readonly channel: amqplib.Channel,
  ) {}

  static async create(prefix: string): Promise<ScratchQueues> {
    const connection = await amqplib.connect(RABBITMQ_URL);
    const channel = await connection.createChannel();
    const name = scratchName(prefix);
    const deadLetters = `${name}.dead`;
    await channel.assertQueue(deadLetters, queueOptions());
    await channel.assertQueue(name, queueOptions(deadLetters));
    return new ScratchQueues(name, deadLetters, connection, channel);
  }

  /** The options every party declares the queue with (they must agree). */
  get options() {
    return queueOptions(this.deadLetters);
  }

  /** Messages ready in the queue (unacknowledged deliveries are not), and its consumers. */
  async depth(): Promise<{ ready: number; consumers: number }> {
    const { messageCount, consumerCount } = await this.channel.checkQueue(this.name);
    return { ready: messageCount, consumers: consumerCount };
  }

  /** Messages rejected without requeue (dead-lettered). */
  async deadLettered(): Promise<number> {
    return (await this.channel.checkQueue(this.deadLetters)).messageCount;
  }

  async delete(): Promise<void> {
    await this.channel.deleteQueue(this.name);
    await this.channel.deleteQueue(this.deadLetters);
    await this.connection.close();
  }
}
