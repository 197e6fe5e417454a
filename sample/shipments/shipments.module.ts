import { Module } from '@nestjs/common';
import { OrdersModule } from '../orders/orders.module.js';
import { ShipmentsConsumer } from './shipments.consumer.js';

/** The RabbitMQ consumer of `order.shipped`; it receives messages once main.ts connects the RMQ transport. */
@Module({
  imports: [OrdersModule],
  controllers: [ShipmentsConsumer],
})
export class ShipmentsModule {}
