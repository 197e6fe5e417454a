import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload, type RmqContext } from '@nestjs/microservices';
import { Idempotent } from '../../lib/index.js';
import { OrdersService } from '../orders/orders.service.js';

/** The `order.shipped` message: the order that left the warehouse. */
export interface OrderShipped {
  orderId: number;
}

/**
 * A RabbitMQ consumer (started when `RABBITMQ_URL` is set). RabbitMQ
 * delivers at least once, and publishers retry: `@Idempotent()` keys each
 * message by its AMQP `messageId`, so a redelivery is acknowledged and
 * skipped instead of shipping the order twice. Manual acknowledgements
 * (`noAck: false`, and the module's `rmq: { noAck: false }`): the message is
 * acknowledged once the shipment is counted.
 */
@Controller()
export class ShipmentsConsumer {
  private readonly logger = new Logger(ShipmentsConsumer.name);

  constructor(private readonly orders: OrdersService) {}

  @EventPattern<string>('order.shipped')
  @Idempotent()
  async shipped(@Payload() message: OrderShipped, @Ctx() context: RmqContext): Promise<void> {
    const order = await this.orders.ship(message.orderId);
    this.logger.log(`Order ${order.id} shipped (message ${context.getMessage().properties.messageId}): shipments = ${order.shipments}`);
    context.getChannelRef().ack(context.getMessage());
  }
}
