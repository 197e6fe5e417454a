import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, type RmqContext } from '@nestjs/microservices';
import { Idempotent } from '../../../lib/index.js';
import { Executions } from '../../fixtures/executions.js';
import type { TestMessage, TestReply } from './message.controller.js';

/** RabbitMQ handlers under manual acknowledgements: each acknowledges its own message once its row is in. */
@Controller()
export class AckingController {
  constructor(private readonly executions: Executions) {}

  @EventPattern<string>('shipped')
  @Idempotent()
  async shipped(@Payload() data: TestMessage, @Ctx() context: RmqContext): Promise<void> {
    await this.executions.record(`shipped:${data.requestId}`);
    context.getChannelRef().ack(context.getMessage());
  }

  @MessagePattern('charge')
  @Idempotent()
  async charge(@Payload() data: TestMessage, @Ctx() context: RmqContext): Promise<TestReply> {
    const execution = await this.executions.record(`charge:${data.requestId}`);
    context.getChannelRef().ack(context.getMessage());
    return { execution, n: data.n };
  }
}
