import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule, ModuleRef } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyExplorer } from './idempotency.explorer.js';
import { IDEMPOTENCY_INTERCEPTOR, IDEMPOTENCY_OPTIONS } from './idempotency.internal-constants.js';
import { ASYNC_OPTIONS_TYPE, ConfigurableIdempotencyModule, OPTIONS_TYPE } from './idempotency.module-definition.js';
import { idempotencyOptionsProvider } from './idempotency.options.js';
import { idempotencyStoreProvider } from './idempotency.providers.js';
import { IdempotencyService } from './idempotency.service.js';
import { IdempotencySweeper } from './idempotency.sweeper.js';
import { IdempotencyInterceptor } from './interceptors/idempotency.interceptor.js';
import { IdempotencyEvents } from './observability/idempotency-events.js';
import { IdempotencyOpenApi } from './openapi/idempotency-openapi.js';
import type { IdempotencyModuleOptions } from './interfaces/idempotency-module-options.interface.js';
import { IdempotencyStore } from './interfaces/idempotency-store.interface.js';
import { IdempotencyRecord } from './stores/typeorm/postgres/idempotency-record.entity.js';
import type { RecordEntity } from './stores/typeorm/record-entities.js';

/**
 * Registers the global idempotency interceptor (so `@Idempotent()` works on
 * any controller) and the injectable `IdempotencyService`. Global by default;
 * pass `isGlobal: false` to scope it. Import it once per application: a
 * second idempotency interceptor is refused at startup.
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
  imports: [DiscoveryModule],
  providers: [
    idempotencyOptionsProvider,
    idempotencyStoreProvider,
    IdempotencyService,
    IdempotencyEvents, // the protocol's decisions, to onEvent, the debug log and OpenTelemetry
    IdempotencySweeper,
    IdempotencyExplorer,
    IdempotencyOpenApi, // documents @Idempotent routes for @nestjs/swagger, when present
    {
      provide: IDEMPOTENCY_INTERCEPTOR,
      inject: [IDEMPOTENCY_OPTIONS, ModuleRef],
      useFactory: (options: IdempotencyModuleOptions, moduleRef: ModuleRef) =>
        moduleRef.create(options.interceptor ?? IdempotencyInterceptor),
    },
    { provide: APP_INTERCEPTOR, useExisting: IDEMPOTENCY_INTERCEPTOR },
  ],
  // The options are exported for subclasses of IdempotencyInterceptor (their constructor needs them).
  exports: [IdempotencyService, IdempotencySweeper, IdempotencyStore, IDEMPOTENCY_OPTIONS],
})
export class IdempotencyModule extends ConfigurableIdempotencyModule {
  /** Registers the module; every option is optional. */
  static forRoot(options: typeof OPTIONS_TYPE = {}) {
    if (!options.store && options.registerEntity !== false) {
      registerEntity(options.entity, typeof options.registerEntity === 'string' ? options.registerEntity : options.dataSource);
    }
    return super.forRoot(options);
  }

  /**
   * Registers the module with options from a factory. Its options are not
   * known yet, so the entity goes to `autoLoadEntities` of the default
   * DataSource unless `registerEntity` names another one or is `false`
   * (set it `false` when the factory returns a `store`).
   */
  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE) {
    if (options.registerEntity !== false) {
      registerEntity(options.entity, typeof options.registerEntity === 'string' ? options.registerEntity : undefined);
    }
    return super.forRootAsync(options);
  }
}

/**
 * Makes `autoLoadEntities` of the DataSource include the record entity of its dialect. Not
 * an import of `forFeature()`: its repository provider would fail in apps
 * that create the table with the migration and list no entity.
 */
function registerEntity(entity: RecordEntity = IdempotencyRecord, dataSource?: string): void {
  TypeOrmModule.forFeature([entity], dataSource);
}
