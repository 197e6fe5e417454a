/**
 * The consumer app of the message-storm tests (one per child process, see
 * message-consumer.ts): `@Idempotent()` message handlers on RabbitMQ or NATS
 * whose every execution writes its side effects to the shared PostgreSQL.
 */
import { Controller, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, NatsContext, Payload, RmqContext } from '@nestjs/microservices';
import { TypeOrmModule } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { IdempotencyModule, Idempotent, IdempotencyRecord } from '../../../lib/index.js';
import { IpcGate } from '../worker/ipc.js';
import type { Broker, EffectData, EffectReply } from './message-ipc.js';

const WORKER = process.env.WORKER_NAME ?? 'consumer';
/** Scratch per run (set before this module loads: decorators read it). */
const PREFIX = process.env.MESSAGE_PATTERN_PREFIX ?? 'message-storm';
export const EVENT_PATTERN = `${PREFIX}.event`;
export const REQUEST_PATTERN = `${PREFIX}.request`;

/**
 * One execution of a handler: an `entered` row, then (after `delayMs`; the
 * first run of a gated message waits here for the test, which may kill the
 * process) the `effect` row, in the `side_effects` table of
 * support/shared-database.ts.
 */
@Injectable()
export class MessageEffects {
  constructor(
    private readonly dataSource: DataSource,
    private readonly gate: IpcGate,
  ) {}

  async run(key: string | undefined, data: EffectData): Promise<EffectReply> {
    if (!key) throw new Error('the handler ran for a message without an id');
    const entered = await this.record('entered', key);
    if (data.delayMs) await sleep(data.delayMs);
    if (data.gate && (await this.isFirstRun(key, entered))) {
      if ((await this.gate.pass(key)) === 'throw') throw new Error(`handler of ${key} failed after its barrier`);
    }
    const effect = await this.record('effect', key);
    return { key, order: data.order, worker: WORKER, pid: process.pid, effect, nonce: randomUUID() };
  }

  private async isFirstRun(key: string, entered: number): Promise<boolean> {
    const [{ first }] = await this.dataSource.query(
      `SELECT min(id)::int AS first FROM side_effects WHERE phase = 'entered' AND key = $1`,
      [key],
    );
    return first === entered;
  }

  private async record(phase: 'entered' | 'effect', key: string): Promise<number> {
    const [row] = await this.dataSource.query(
      `INSERT INTO side_effects (phase, key, principal, worker) VALUES ($1, $2, '', $3) RETURNING id`,
      [phase, key, WORKER],
    );
    return Number(row.id);
  }
}

/**
 * RabbitMQ with manual acknowledgements: each handler acknowledges its own
 * delivery once its effect is written; the library settles the deliveries
 * it answers without running the handler.
 */
@Controller()
export class RabbitMqEffectsController {
  constructor(private readonly effects: MessageEffects) {}

  @EventPattern<string>(EVENT_PATTERN)
  @Idempotent()
  async onEvent(@Payload() data: EffectData, @Ctx() context: RmqContext): Promise<void> {
    await this.effects.run(context.getMessage().properties.messageId, data);
    context.getChannelRef().ack(context.getMessage());
  }

  @MessagePattern(REQUEST_PATTERN)
  @Idempotent()
  async onRequest(@Payload() data: EffectData, @Ctx() context: RmqContext): Promise<EffectReply> {
    const reply = await this.effects.run(context.getMessage().properties.messageId, data);
    context.getChannelRef().ack(context.getMessage());
    return reply;
  }
}

/** NATS request-reply: the key is the request's `Nats-Msg-Id` header. */
@Controller()
export class NatsEffectsController {
  constructor(private readonly effects: MessageEffects) {}

  @MessagePattern(REQUEST_PATTERN)
  @Idempotent()
  onRequest(@Payload() data: EffectData, @Ctx() context: NatsContext): Promise<EffectReply> {
    return this.effects.run(context.getHeaders()?.get('Nats-Msg-Id') || undefined, data);
  }
}

@Module({})
export class MessageConsumerModule {
  /** The library on the shared PostgreSQL (tables made by the test), and the handlers of `broker`. */
  static forRoot(url: string, lockTimeout: number, broker: Broker): DynamicModule {
    return {
      module: MessageConsumerModule,
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url, entities: [IdempotencyRecord], synchronize: false }),
        IdempotencyModule.forRoot({ lockTimeout, ...(broker === 'rabbitmq' && { rmq: { noAck: false } }) }),
      ],
      controllers: [broker === 'rabbitmq' ? RabbitMqEffectsController : NatsEffectsController],
      providers: [IpcGate, MessageEffects],
    };
  }
}
