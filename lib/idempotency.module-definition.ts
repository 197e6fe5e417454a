import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { IdempotencyModuleOptions } from './interfaces/idempotency-module-options.interface.js';
import type { RecordEntity } from './stores/typeorm/record-entities.js';

/** Static options of `forRoot()` and `forRootAsync()`, beside the module options. */
export interface IdempotencyModuleExtras {
  /** Make the module global (default `true`). */
  isGlobal?: boolean;
  /**
   * Add the record entity to `autoLoadEntities` of a TypeORM
   * DataSource: `true` (default) for the one of the default store (the
   * `dataSource` option of `forRoot()`, the default DataSource for
   * `forRootAsync()`), a name for another one, `false` for none (a custom
   * `store`, or a table made by the migration). `forRoot({ store })` never adds it.
   */
  registerEntity?: boolean | string;
  /**
   * Which record entity `registerEntity` adds: `IdempotencyRecord`
   * (PostgreSQL, the default), `MysqlIdempotencyRecord` (MySQL, MariaDB) or
   * `SqliteIdempotencyRecord` (better-sqlite3, sqljs). TypeORM checks column
   * types against the driver, so each database has its own class over the
   * same table.
   */
  entity?: RecordEntity;
}

export const {
  ConfigurableModuleClass: ConfigurableIdempotencyModule,
  MODULE_OPTIONS_TOKEN: IDEMPOTENCY_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<IdempotencyModuleOptions>({ moduleName: 'Idempotency' })
  .setClassMethodName('forRoot')
  .setExtras<IdempotencyModuleExtras>({ isGlobal: true, registerEntity: true, entity: undefined }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
