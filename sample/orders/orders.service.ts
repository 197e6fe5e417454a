import { Injectable, NotFoundException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectRepository } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager, Repository } from 'typeorm';
import { readMilliseconds } from '../config/milliseconds.js';
import type { CreateOrderDto } from './create-order.dto.js';
import { Order } from './order.entity.js';

/** Default of `ORDER_DELAY_MS`: long enough to send a duplicate while the first is in flight. */
const DEFAULT_ORDER_DELAY_MS = 1000;

@Injectable()
export class OrdersService {
  /** How long creating an order takes before it is stored (`ORDER_DELAY_MS`). */
  private readonly delayMs: number;

  constructor(
    @InjectRepository(Order) private readonly orders: Repository<Order>,
    config: ConfigService,
  ) {
    this.delayMs = readMilliseconds(config, 'ORDER_DELAY_MS') ?? DEFAULT_ORDER_DELAY_MS;
  }

  /** Creates an order after `ORDER_DELAY_MS` (a stand-in for real work: stock, pricing...). */
  async create(dto: CreateOrderDto): Promise<Order> {
    await sleep(this.delayMs);
    return this.orders.save(this.orders.create(dto));
  }

  /** @throws NotFoundException when there is no such order. */
  async findOne(id: number): Promise<Order> {
    const order = await this.orders.findOneBy({ id });
    if (!order) throw new NotFoundException(`Order ${id} not found`);
    return order;
  }

  /**
   * Adds a payment to an order, in the transaction of `manager`. Not
   * idempotent by itself: applied twice, it counts twice; `PaymentsService`
   * makes sure each event is applied once.
   */
  async addPayment(manager: EntityManager, id: number, amount: number): Promise<Order> {
    const orders = manager.getRepository(Order);
    const result = await orders.increment({ id }, 'amountPaid', amount);
    if (!result.affected) throw new NotFoundException(`Order ${id} not found`);
    return orders.findOneByOrFail({ id });
  }

  /** Counts a shipment of an order. Not idempotent by itself: `ShipmentsConsumer` makes it so. */
  async ship(id: number): Promise<Order> {
    const result = await this.orders.increment({ id }, 'shipments', 1);
    if (!result.affected) throw new NotFoundException(`Order ${id} not found`);
    return this.orders.findOneByOrFail({ id });
  }
}
