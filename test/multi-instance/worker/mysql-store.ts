import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MysqlIdempotencyRecord, type IdempotencyModuleExtras, type IdempotencyModuleOptions } from '../../../lib/index.js';

/** The store of an instance on MySQL/MariaDB (`STORE=mysql`): the URL of the database it shares. */
export interface MysqlStoreOptions {
  url: string;
}

/** Name of the DataSource of the `mysql` store: the app's second DataSource, beside its PostgreSQL one. */
export const MYSQL_DATA_SOURCE = 'idempotency';

/**
 * The module's default `TypeOrmIdempotencyStore` on a MySQL/MariaDB
 * DataSource, as an app whose records live there wires it: a named
 * DataSource (`type: 'mysql'`) that maps `MysqlIdempotencyRecord`, and the
 * module's `dataSource` option naming it. The table is made beforehand (the
 * test runs the migration); TypeORM closes the DataSource on shutdown.
 */
export function mysqlStore({ url }: MysqlStoreOptions): {
  imports: DynamicModule[];
  options: IdempotencyModuleOptions & IdempotencyModuleExtras;
} {
  return {
    imports: [
      TypeOrmModule.forRoot({ name: MYSQL_DATA_SOURCE, type: 'mysql', url, entities: [MysqlIdempotencyRecord], synchronize: false }),
    ],
    // The entity is listed above: nothing for the module to register.
    options: { dataSource: MYSQL_DATA_SOURCE, registerEntity: false },
  };
}
