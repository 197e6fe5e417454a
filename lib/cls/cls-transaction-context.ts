import { TransactionHost } from '@nestjs-cls/transactional';
import { ClsServiceManager } from 'nestjs-cls';
import type { EntityManager } from 'typeorm';
import { IdempotencyConfigurationError } from '../errors/idempotency-configuration.error.js';
import type { TransactionContext } from '../interfaces/idempotency-module-options.interface.js';
import { adoptTransaction } from './transaction-host-internals.js';

/** Options of {@link ClsTransactionContext}. */
export interface ClsTransactionContextOptions {
  /**
   * The `connectionName` of the `ClsPluginTransactional` whose
   * `TransactionHost` is to see the request's transaction: the plugin whose
   * `TransactionalAdapterTypeOrm` is on the DataSource of the idempotency
   * store. Default: the plugin registered without a name.
   */
  connectionName?: string;
}

/**
 * Atomic mode for apps that reach their transactions through
 * `@nestjs-cls/transactional`: while an `@Idempotent({ atomic: true })`
 * handler, or the operation of `execute(..., { atomic: true })`, runs,
 * `TransactionHost#tx` is the `EntityManager` of the transaction that also
 * holds the idempotency record, and `isTransactionActive()` is true. So the
 * services the handler calls write with `this.txHost.tx` as they always do,
 * and those writes commit with the record, or roll back with it.
 *
 * Needs `nestjs-cls` 6.3+ with `@nestjs-cls/transactional` 3.x and
 * `@nestjs-cls/transactional-adapter-typeorm` 1.x, the plugin's adapter on
 * the same DataSource as the idempotency store, and a CLS context per
 * request made by the `ClsMiddleware` or the `ClsGuard`. Not the
 * `ClsInterceptor` (`interceptor: { mount: true }`): it runs after the
 * idempotency interceptor and starts a context of its own, without the
 * transaction, so `txHost.tx` would write outside it.
 *
 * Inside the handler, `txHost.withTransaction()` and `@Transactional()`:
 * - `Propagation.Required` (the default), `Mandatory`, `Supports`: join the
 *   request's transaction (no savepoint: a caught error does not undo what
 *   the method wrote before it threw).
 * - `Propagation.Nested`: a SAVEPOINT in the request's transaction; an error
 *   rolls back to it, the rest commits with the record.
 * - `Propagation.RequiresNew`: a transaction of its own on another pooled
 *   connection, committed whatever becomes of the request's.
 * - `Propagation.NotSupported`: runs outside any transaction, on its own
 *   connection; `Never` throws.
 *
 * `execute(..., { atomic: true })` called inside a transaction of yours (a
 * `@Transactional()` method) opens one of its own unless you pass
 * `{ manager: txHost.tx }`, which makes the record join yours.
 *
 * @example
 * // app.module.ts
 * imports: [
 *   TypeOrmModule.forRoot({ ... }),
 *   ClsModule.forRoot({
 *     global: true,
 *     middleware: { mount: true },
 *     plugins: [
 *       new ClsPluginTransactional({
 *         imports: [TypeOrmModule],
 *         adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: DataSource }),
 *       }),
 *     ],
 *   }),
 *   IdempotencyModule.forRoot({ transactionContext: new ClsTransactionContext() }),
 * ]
 *
 * // orders.controller.ts: OrdersService writes with this.txHost.tx
 * @Post()
 * @Idempotent({ atomic: true })
 * create(@Body() dto: CreateOrderDto) {
 *   return this.orders.create(dto);
 * }
 */
export class ClsTransactionContext implements TransactionContext {
  private readonly connectionName: string | undefined;

  constructor(options: ClsTransactionContextOptions = {}) {
    this.connectionName = options.connectionName;
  }

  /** Runs `work` in a child CLS context (inheriting the current one) where `manager` is the active transaction. */
  run<T>(manager: EntityManager, work: () => T): T {
    const host = this.transactionHost();
    const cls = ClsServiceManager.getClsService();
    return cls.run({ ifNested: 'inherit' }, () => {
      const current = host.tx as Partial<EntityManager> | undefined;
      if (current?.dataSource !== manager.dataSource) {
        throw new IdempotencyConfigurationError(
          `ClsTransactionContext: the TransactionHost${this.named()} is not on the DataSource of the idempotency store. ` +
            'Register ClsPluginTransactional with a TransactionalAdapterTypeOrm on that DataSource, or pass the ' +
            "plugin's connectionName to new ClsTransactionContext({ connectionName }).",
        );
      }
      if (!adoptTransaction(host, manager) || host.tx !== manager || !host.isTransactionActive()) {
        throw new IdempotencyConfigurationError(
          'ClsTransactionContext could not make the transaction active in @nestjs-cls/transactional: ' +
            'this version of the package is not supported (3.x is).',
        );
      }
      return work();
    });
  }

  private transactionHost(): TransactionHost<never> {
    try {
      return TransactionHost.getInstance(this.connectionName);
    } catch {
      throw new IdempotencyConfigurationError(
        `ClsTransactionContext: no TransactionHost${this.named()}. Register ClsPluginTransactional` +
          `${this.connectionName === undefined ? '' : ' with this connectionName'} in ClsModule.forRoot({ plugins }).`,
      );
    }
  }

  private named(): string {
    return this.connectionName === undefined ? '' : ` of connectionName '${this.connectionName}'`;
  }
}
