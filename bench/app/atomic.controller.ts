import { Body, Controller, Post } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Idempotent, TransactionManager } from '../../lib/index.js';
import { OrdersRepository, type Order, type OrderInput } from './orders.repository.js';

/**
 * `atomic-*`: the same handler under `@Idempotent({ atomic: true })`, the
 * insert through the request's transaction: the claim, the insert and the
 * completion commit together (the module's default store, TypeORM's on PostgreSQL).
 */
@Controller('orders')
export class AtomicOrdersController {
  constructor(private readonly orders: OrdersRepository) {}

  @Post()
  @Idempotent({ atomic: true })
  create(@Body() input: OrderInput, @TransactionManager() manager: EntityManager): Promise<Order> {
    return this.orders.insert(input, manager);
  }
}
