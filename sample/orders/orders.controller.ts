import { Body, Controller, Get, Param, ParseIntPipe, Post, Res } from '@nestjs/common';
import { Idempotent } from '../../lib/index.js';
import { toCreateOrderDto } from './create-order.dto.js';
import type { Order } from './order.entity.js';
import { OrdersService } from './orders.service.js';

/** The part of the Express response (or Fastify reply) this controller uses. */
interface HeaderSetter {
  header(name: string, value: string): unknown;
}

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  /**
   * Requires an `Idempotency-Key`. A retry with the same key gets the stored
   * 201, body and `Location` back (plus `Idempotent-Replayed: true`) instead
   * of a second order.
   */
  @Post()
  @Idempotent()
  async create(@Body() body: unknown, @Res({ passthrough: true }) response: HeaderSetter): Promise<Order> {
    const order = await this.orders.create(toCreateOrderDto(body));
    response.header('Location', `/orders/${order.id}`);
    return order;
  }

  @Get(':id')
  findOne(@Param('id', ParseIntPipe) id: number): Promise<Order> {
    return this.orders.findOne(id);
  }
}
