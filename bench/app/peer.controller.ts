import { Body, Controller, Post } from '@nestjs/common';
import { Idempotent } from '@node-idempotency/nestjs';
import { OrdersRepository, type Order, type OrderInput } from './orders.repository.js';

/**
 * `peer-*`: the same handler under the peer library's `@Idempotent()`
 * (`@node-idempotency/nestjs`) with its defaults. Loaded in those modes only.
 */
@Controller('orders')
export class PeerOrdersController {
  constructor(private readonly orders: OrdersRepository) {}

  @Post()
  @Idempotent()
  create(@Body() input: OrderInput): Promise<Order> {
    return this.orders.insert(input);
  }
}
