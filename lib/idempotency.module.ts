import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ASYNC_OPTIONS_TYPE, ConfigurableIdempotencyModule, OPTIONS_TYPE } from './idempotency.module-definition.js';
import { idempotencyStoreProvider } from './idempotency.providers.js';
import { IdempotencyService } from './idempotency.service.js';
import { IdempotencySweeper } from './idempotency.sweeper.js';
import { IdempotencyInterceptor } from './interceptors/idempotency.interceptor.js';
import { IdempotencyStore } from './interfaces/idempotency-store.interface.js';
import { IdempotencyRecord } from './stores/typeorm/idempotency-record.entity.js';

/**
 * Registers the global idempotency interceptor (so `@Idempotent()` works on
 * any controller) and the injectable `IdempotencyService`. Global by default;
 * pass `isGlobal: false` to scope it.
 *
 * @example
 * IdempotencyModule.forRoot()                                    // TypeORM store, default DataSource
 * IdempotencyModule.forRoot({ store: new InMemoryIdempotencyStore() })
 * IdempotencyModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ ttl: config.get('IDEMPOTENCY_TTL_MS') }),
 * })
 */
@Module({
  providers: [
    IdempotencyService,
    IdempotencySweeper,
    idempotencyStoreProvider,
    { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
  ],
  exports: [IdempotencyService, IdempotencySweeper, IdempotencyStore],
})
export class IdempotencyModule extends ConfigurableIdempotencyModule {
  /** Registers the module; every option is optional. */
  static forRoot(options: typeof OPTIONS_TYPE = {}) {
    if (!options.store) registerEntity(options.dataSource);
    return super.forRoot(options);
  }

  /**
   * Registers the module with options from a factory. Its options are not
   * known yet, so the entity is registered for `autoLoadEntities` of the
   * default DataSource; another DataSource needs `entities: [IdempotencyRecord]`.
   */
  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE) {
    registerEntity();
    return super.forRootAsync(options);
  }
}

/**
 * Makes `autoLoadEntities` of the DataSource include the record entity. Not
 * an import of `forFeature()`: its repository provider would fail in apps
 * that create the table with the migration and list no entity.
 */
function registerEntity(dataSource?: string): void {
  TypeOrmModule.forFeature([IdempotencyRecord], dataSource);
}
