import { Body, Controller, Get, Headers, Post } from '@nestjs/common';
import { InjectTransaction, type Transaction } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { EntityManager } from 'typeorm';
import { Idempotent, IdempotencyService, TransactionManager } from '../../../lib/index.js';
import { ClsOrdersService, type ClsOrder } from './cls-orders.service.js';

interface OrderInput {
  item: string;
  /** Throw after the writes (500). */
  fail?: boolean;
}

/** What the handler saw of `@nestjs-cls/transactional` next to the request's own transaction. */
export interface TransactionView {
  /** `txHost.tx` is the `EntityManager` of `@TransactionManager()`. */
  sameManager: boolean;
  /** `txHost.isTransactionActive()`. */
  active: boolean;
  /** The `@InjectTransaction()` proxy runs on the request's query runner. */
  proxied: boolean;
}

/** Where each propagation's write ran, next to the request's transaction. */
export interface PropagationView {
  /** `Required` wrote with the request's `EntityManager`. */
  required: boolean;
  /** `Nested` wrote on the request's query runner (in a savepoint). */
  nested: boolean;
  /** `RequiresNew` wrote on another query runner. */
  requiresNew: boolean;
}

@Controller('cls')
export class ClsOrdersController {
  constructor(
    private readonly orders: ClsOrdersService,
    private readonly idempotency: IdempotencyService,
    @InjectTransaction() private readonly tx: Transaction<TransactionalAdapterTypeOrm>,
  ) {}

  /** Atomic: the write goes through a service's `txHost.tx`. */
  @Post('orders')
  @Idempotent({ atomic: true })
  async create(@Body() input: OrderInput, @TransactionManager() manager: EntityManager): Promise<ClsOrder & TransactionView> {
    const order = await this.orders.create(input.item);
    if (input.fail) throw new Error('the handler failed after its write');
    return { ...order, ...this.view(manager) };
  }

  /** Atomic, through `@Transactional()` methods of each propagation that can run inside a transaction. */
  @Post('propagation')
  @Idempotent({ atomic: true })
  async propagation(@Body() input: OrderInput, @TransactionManager() manager: EntityManager): Promise<PropagationView> {
    const required = await this.orders.createJoined(`${input.item}-required`);
    await this.orders.createNested(`${input.item}-nested-failed`, true).catch(() => undefined);
    const nested = await this.orders.createNested(`${input.item}-nested`);
    const requiresNew = await this.orders.createSeparately(`${input.item}-requires-new`);
    if (input.fail) throw new Error('the handler failed after its writes');
    return {
      required: required.tx === manager,
      nested: nested.tx.queryRunner === manager.queryRunner,
      requiresNew: requiresNew.tx.queryRunner !== manager.queryRunner,
    };
  }

  /** `execute()` in atomic mode; the operation writes through `txHost.tx`, not the manager it is handed. */
  @Post('execute')
  execute(@Body() input: OrderInput, @Headers('idempotency-key') key: string): Promise<ClsOrder & TransactionView> {
    return this.idempotency.execute(
      key,
      async (manager) => {
        const order = await this.orders.create(input.item);
        if (input.fail) throw new Error('the operation failed after its write');
        return { ...order, ...this.view(manager) };
      },
      { scope: 'cls-execute', atomic: true },
    );
  }

  /** `execute()` inside the caller's own `@Transactional()` transaction, which it joins. */
  @Post('execute-in-transaction')
  executeInTransaction(@Body() input: OrderInput, @Headers('idempotency-key') key: string): Promise<ClsOrder> {
    return this.orders.createAroundExecute(this.idempotency, key, input.item, input.fail ?? false);
  }

  /** Outside atomic mode: no transaction is active. */
  @Get('active')
  active(): { active: boolean } {
    return { active: this.orders.txHost.isTransactionActive() };
  }

  private view(manager: EntityManager): TransactionView {
    return {
      sameManager: this.orders.txHost.tx === manager,
      active: this.orders.txHost.isTransactionActive(),
      proxied: manager.queryRunner !== undefined && this.tx.queryRunner === manager.queryRunner,
    };
  }
}
