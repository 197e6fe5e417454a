import { Body, Controller, Post } from '@nestjs/common';
import { OrdersRepository, type Order, type OrderInput } from './orders.repository.js';

/** `baseline`: the handler without idempotency. */
@Controller('orders')
export class BaselineOrdersController {
  constructor(private readonly orders: OrdersRepository) {}

  @Post()
  create(@Body() input: OrderInput): Promise<Order> {
    return this.orders.insert(input);
  }
}
