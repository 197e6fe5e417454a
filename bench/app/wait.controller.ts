import { Body, Controller, Post } from '@nestjs/common';
import { Idempotent } from '../../lib/index.js';
import { WAIT_ROUTE } from '../protocol.js';
import { OrdersRepository, type Order, type OrderInput } from './orders.repository.js';
import { WaitRounds } from './wait-rounds.js';

/**
 * `wait-*`: the same handler under `@Idempotent({ wait })`, held by
 * {@link WaitRounds} until the duplicates of the round wait for it, then
 * `WAIT_ROUTE.handlerMs` of work and the insert. The store is the module's
 * default one (TypeORM's on PostgreSQL), or Redis's in `library-wait-redis`.
 */
@Controller('orders')
export class WaitOrdersController {
  constructor(
    private readonly orders: OrdersRepository,
    private readonly rounds: WaitRounds,
  ) {}

  @Post()
  @Idempotent({ wait: WAIT_ROUTE.wait })
  async create(@Body() input: OrderInput): Promise<Order> {
    await this.rounds.hold();
    return this.orders.insert(input);
  }
}
