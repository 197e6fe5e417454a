import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Idempotent } from 'nestjs-idempotency';
import { HoldGate } from './hold-gate.js';

/** The body of POST /orders. With `hold: true` the handler stays in flight until POST /release. */
interface CreateOrder {
  item: string;
  hold?: boolean;
}

@Controller()
export class OrdersController {
  constructor(private readonly gate: HoldGate) {}

  /** Creates an order: 201 with a fresh id, so that a replay is told from a second run by its bytes. */
  @Post('orders')
  @Idempotent()
  async create(@Body() order: CreateOrder): Promise<{ id: string; item: string; createdAt: string }> {
    if (order.hold) await this.gate.hold();
    return { id: randomUUID(), item: order.item, createdAt: new Date().toISOString() };
  }

  /** Answers once a held POST /orders is in flight. */
  @Get('held')
  async held(): Promise<{ held: true }> {
    await this.gate.untilHeld();
    return { held: true };
  }

  /** Lets the held POST /orders finish. */
  @Post('release')
  @HttpCode(200)
  release(): { released: number } {
    return { released: this.gate.release() };
  }
}
