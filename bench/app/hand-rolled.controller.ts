import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Headers,
  Post,
  Res,
  UnprocessableEntityException,
} from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { HandRolledStore } from './hand-rolled.store.js';
import { OrdersRepository, type Order, type OrderInput } from './orders.repository.js';

/** The part of Express's response the handler touches. */
interface Reply {
  status(code: number): Reply;
  setHeader(name: string, value: string): unknown;
}

/**
 * `hand-rolled`: the same handler doing its own minimal idempotency with the
 * guarantees of the library: atomic claim, replay of the stored response,
 * 409 while in flight, 422 on another payload, completion fenced by a token,
 * release on failure.
 */
@Controller('orders')
export class HandRolledOrdersController {
  constructor(
    private readonly orders: OrdersRepository,
    private readonly store: HandRolledStore,
  ) {}

  @Post()
  async create(
    @Headers('idempotency-key') key: string | undefined,
    @Body() input: OrderInput,
    @Res({ passthrough: true }) reply: Reply,
  ): Promise<Order> {
    if (!key || key.length > 255) throw new BadRequestException('Send an Idempotency-Key of 1 to 255 characters');
    const fingerprint = createHash('sha256').update(JSON.stringify(input)).digest('hex');
    const token = randomUUID();
    const claim = await this.store.claim(key, fingerprint, token);
    if (!claim.claimed) {
      if (claim.live && claim.fingerprint !== fingerprint) throw new UnprocessableEntityException('Key reused');
      if (!claim.live || claim.status !== 'completed') {
        reply.setHeader('Retry-After', '1');
        throw new ConflictException('Request in flight');
      }
      reply.status(claim.response_status!).setHeader('Idempotent-Replayed', 'true');
      return JSON.parse(claim.response_body!);
    }
    let order: Order;
    try {
      order = await this.orders.insert(input);
    } catch (error) {
      await this.store.release(key, token);
      throw error;
    }
    await this.store.complete(key, token, 201, JSON.stringify(order));
    return order;
  }
}
