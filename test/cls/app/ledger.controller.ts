import { Body, Controller, Injectable, Post } from '@nestjs/common';
import { InjectTransactionHost, TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { EntityManager } from 'typeorm';
import { Idempotent, TransactionManager } from '../../../lib/index.js';
import type { ClsOrder } from './cls-orders.service.js';
import type { TransactionView } from './cls-orders.controller.js';

/** The name of the second DataSource, and of its transactional plugin. */
export const LEDGER = 'ledger';

/** Writes through the `TransactionHost` of the `ledger` connection. */
@Injectable()
export class LedgerService {
  constructor(@InjectTransactionHost(LEDGER) readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  async create(item: string): Promise<ClsOrder> {
    const [order] = await this.txHost.tx.query('INSERT INTO cls_orders (item) VALUES ($1) RETURNING id, item', [item]);
    return order;
  }
}

@Controller('ledger')
export class LedgerController {
  constructor(private readonly ledger: LedgerService) {}

  /** Atomic on the `ledger` DataSource: the write goes through its named `TransactionHost`. */
  @Post('orders')
  @Idempotent({ atomic: true })
  async create(
    @Body() input: { item: string; fail?: boolean },
    @TransactionManager() manager: EntityManager,
  ): Promise<ClsOrder & Omit<TransactionView, 'proxied'>> {
    const order = await this.ledger.create(input.item);
    if (input.fail) throw new Error('the handler failed after its write');
    return { ...order, sameManager: this.ledger.txHost.tx === manager, active: this.ledger.txHost.isTransactionActive() };
  }
}
