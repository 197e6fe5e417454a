import { Body, Controller, Post } from '@nestjs/common';
import { Idempotent } from '../../lib/index.js';
import { OrdersRepository, type Order, type OrderInput } from './orders.repository.js';

/**
 * `library-*`, `redis-*` and `mariadb-*`: the same handler under
 * `@Idempotent()` with the module's defaults (the store aside: TypeORM's on
 * PostgreSQL, Redis's in `library-redis`, TypeORM's on MariaDB in `library-mariadb`).
 */
@Controller('orders')
export class LibraryOrdersController {
  constructor(private readonly orders: OrdersRepository) {}

  @Post()
  @Idempotent()
  create(@Body() input: OrderInput): Promise<Order> {
    return this.orders.insert(input);
  }
}
