import { Injectable } from '@nestjs/common';
import { Propagation, Transactional, TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { EntityManager } from 'typeorm';
import type { IdempotencyService } from '../../../lib/index.js';

/** An order as the handlers answer it. */
export interface ClsOrder {
  id: number;
  item: string;
}


/**
 * Writes the way an app on `@nestjs-cls/transactional` does: with
 * `txHost.tx`, never with a manager handed down by the caller.
 */
@Injectable()
export class ClsOrdersService {
  constructor(readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  async create(item: string): Promise<ClsOrder> {
    return (await this.write(item)).order;
  }

  async write(item: string): Promise<{ order: ClsOrder; tx: EntityManager }> {
    const tx = this.txHost.tx;
    const [order] = await tx.query('INSERT INTO cls_orders (item) VALUES ($1) RETURNING id, item', [item]);
    return { order, tx };
  }

  /** `Propagation.Required` (the default): joins the active transaction. */
  @Transactional()
  createJoined(item: string): Promise<{ order: ClsOrder; tx: EntityManager }> {
    return this.write(item);
  }

  /** `Propagation.Nested`: a savepoint; `fail` throws after the write. */
  @Transactional(Propagation.Nested)
  async createNested(item: string, fail = false): Promise<{ order: ClsOrder; tx: EntityManager }> {
    const written = await this.write(item);
    if (fail) throw new Error('undo the nested write only');
    return written;
  }

  /**
   * A transaction of the caller's (`@Transactional()`) that `execute()` joins
   * with `{ manager: txHost.tx }`; writes before and after the operation too.
   */
  @Transactional()
  async createAroundExecute(idempotency: IdempotencyService, key: string, item: string, fail: boolean): Promise<ClsOrder> {
    await this.create(`${item}-before`);
    const order = await idempotency.execute(key, () => this.create(item), { scope: 'cls-joined', manager: this.txHost.tx });
    await this.create(`${item}-after`);
    if (fail) throw new Error('the caller failed after execute()');
    return order;
  }

  /** `Propagation.RequiresNew`: a transaction of its own. */
  @Transactional(Propagation.RequiresNew)
  createSeparately(item: string): Promise<{ order: ClsOrder; tx: EntityManager }> {
    return this.write(item);
  }
}
