import { Module, type DynamicModule } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsModule } from 'nestjs-cls';
import { ClsTransactionContext } from '../../../lib/cls/index.js';
import { IdempotencyModule, IdempotencyRecord } from '../../../lib/index.js';
import { ClsOrdersController } from './cls-orders.controller.js';
import { ClsOrdersService } from './cls-orders.service.js';
import { LEDGER, LedgerController, LedgerService } from './ledger.controller.js';

/** How the app makes its CLS context per request. */
export type ClsMount = 'middleware' | 'guard' | 'interceptor';

/** How the test app is put together (passed by the test as JSON in `CLS_APP`). */
export interface ClsAppOptions {
  mount: ClsMount;
  /**
   * A second DataSource, `ledger` (on the same database), with a plugin of
   * that connectionName; the idempotency store is on it.
   */
  ledger?: boolean;
  /** The `connectionName` given to `ClsTransactionContext`. */
  connectionName?: string;
}

/**
 * An app as teams on `@nestjs-cls/transactional` write it: TypeORM, the CLS
 * module with the transactional plugin on the same DataSource, and the
 * idempotency module with a {@link ClsTransactionContext}.
 */
@Module({})
export class ClsAppModule {
  static forRoot(url: string, { mount, ledger = false, connectionName }: ClsAppOptions): DynamicModule {
    const plugin = (name?: string) =>
      new ClsPluginTransactional({
        connectionName: name,
        imports: [TypeOrmModule],
        adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: getDataSourceToken(name) }),
        enableTransactionProxy: true,
      });
    const entities = [IdempotencyRecord];
    return {
      module: ClsAppModule,
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url, entities: ledger ? [] : entities, synchronize: !ledger }),
        ...(ledger ? [TypeOrmModule.forRoot({ name: LEDGER, type: 'postgres', url, entities, synchronize: true })] : []),
        ClsModule.forRoot({ global: true, [mount]: { mount: true }, plugins: ledger ? [plugin(), plugin(LEDGER)] : [plugin()] }),
        IdempotencyModule.forRoot({
          dataSource: ledger ? LEDGER : undefined,
          transactionContext: new ClsTransactionContext({ connectionName }),
        }),
      ],
      controllers: ledger ? [ClsOrdersController, LedgerController] : [ClsOrdersController],
      providers: ledger ? [ClsOrdersService, LedgerService] : [ClsOrdersService],
    };
  }
}
