import { Controller, type Type } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Idempotent } from '../../../lib/index.js';
import { Executions } from '../../fixtures/executions.js';
import { Gates } from '../../fixtures/gates.js';

/** The data of every test message: the request id (a key the `key` option can read), and a payload. */
export interface TestMessage {
  requestId: string;
  n?: number;
}

/** The reply of the message handlers: which execution answered (the row's id). */
export interface TestReply {
  execution: number;
  n?: number;
}

/** The key option that reads the request id from the message data. */
export const requestIdKey = (data: TestMessage) => data.requestId;

/** The patterns of the handlers of {@link messageController}, under `prefix`. */
export const patternsOf = (prefix: string) => ({
  echo: `${prefix}.echo`,
  keyed: `${prefix}.keyed`,
  event: `${prefix}.event`,
  held: `${prefix}.held`,
  heldWaiting: `${prefix}.held-waiting`,
});

/**
 * The message handlers every transport is tested with, on patterns under
 * `prefix` (a NATS subject is global: each run gets its own). `key` is the
 * `key` option of all but `keyed`, which always reads the request id: unset
 * where the transport's message id is the key (RabbitMQ, NATS). Each run of
 * a handler inserts a row into `executions` (route `<handler>:<requestId>`).
 */
export function messageController(prefix: string, key?: typeof requestIdKey): Type {
  const patterns = patternsOf(prefix);

  @Controller()
  class MessageController {
    constructor(
      private readonly executions: Executions,
      private readonly gates: Gates,
    ) {}

    @MessagePattern(patterns.echo)
    @Idempotent({ key })
    async echo(@Payload() data: TestMessage): Promise<TestReply> {
      return { execution: await this.executions.record(`echo:${data.requestId}`), n: data.n };
    }

    @MessagePattern(patterns.keyed)
    @Idempotent({ key: requestIdKey })
    async keyed(@Payload() data: TestMessage): Promise<TestReply> {
      return { execution: await this.executions.record(`keyed:${data.requestId}`), n: data.n };
    }

    @EventPattern<string>(patterns.event)
    @Idempotent({ key })
    async event(@Payload() data: TestMessage): Promise<void> {
      await this.executions.record(`event:${data.requestId}`);
    }

    /** Held at the gate named by the request id; a duplicate meanwhile is refused at once. */
    @MessagePattern(patterns.held)
    @Idempotent({ key, wait: 0 })
    async held(@Payload() data: TestMessage): Promise<TestReply> {
      await this.gates.of(data.requestId).pass();
      return { execution: await this.executions.record(`held:${data.requestId}`) };
    }

    /** Held at the gate named by the request id; a duplicate meanwhile waits for its reply. */
    @MessagePattern(patterns.heldWaiting)
    @Idempotent({ key, wait: 20_000 })
    async heldWaiting(@Payload() data: TestMessage): Promise<TestReply> {
      await this.gates.of(data.requestId).pass();
      return { execution: await this.executions.record(`heldWaiting:${data.requestId}`) };
    }
  }
  return MessageController;
}
