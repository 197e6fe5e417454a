import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import pg from 'pg';
import { IdempotencyModule, MysqlIdempotencyRecord } from '../../lib/index.js';
import type { AppMode } from '../protocol.js';
import { BaselineOrdersController } from './baseline.controller.js';
import { HandRolledOrdersController } from './hand-rolled.controller.js';
import { HandRolledStore } from './hand-rolled.store.js';
import { LibraryOrdersController } from './library.controller.js';
import { OrdersRepository } from './orders.repository.js';
import { RedisConnection } from './redis-connection.js';

const CONTROLLERS: Record<AppMode, Type> = {
  baseline: BaselineOrdersController,
  'hand-rolled': HandRolledOrdersController,
  library: LibraryOrdersController,
  'library-redis': LibraryOrdersController,
  'library-mariadb': LibraryOrdersController,
};

/** Name of the MariaDB DataSource of `library-mariadb`, the app's second one. */
const MARIADB_DATA_SOURCE = 'idempotency';

/** Where the store of `library-redis` or `library-mariadb` keeps its records. */
export interface BenchStores {
  /** `library-redis`: the app's Redis client and the store on it. */
  redis?: RedisConnection;
  /** `library-mariadb`: the MariaDB database of the store. */
  mysqlUrl?: string;
}

/**
 * The app under test: one TypeORM pool of `poolSize` connections and
 * `POST /orders` served by the controller of `mode`. Only the `library*`
 * modes import `IdempotencyModule`, so the other modes pay nothing for it;
 * `library-redis` gives it the store of `stores.redis`, `library-mariadb`
 * a second DataSource on `stores.mysqlUrl` (`type: 'mysql'`, a pool of
 * `poolSize` too) for its default TypeORM store. The handler always inserts
 * into PostgreSQL.
 */
@Module({})
export class BenchAppModule {
  static forRoot(mode: AppMode, url: string, poolSize: number, { redis, mysqlUrl }: BenchStores = {}): DynamicModule {
    if (mode === 'library-redis' && !redis) throw new Error('the library-redis app needs a Redis connection');
    if (mode === 'library-mariadb' && !mysqlUrl) throw new Error('the library-mariadb app needs a MariaDB database');
    return {
      module: BenchAppModule,
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url, poolSize, driver: pg }),
        ...(mode === 'library' ? [IdempotencyModule.forRoot()] : []),
        ...(mode === 'library-redis' ? [IdempotencyModule.forRoot({ store: redis!.store })] : []),
        ...(mode === 'library-mariadb'
          ? [
              TypeOrmModule.forRoot({ name: MARIADB_DATA_SOURCE, type: 'mysql', url: mysqlUrl, poolSize, entities: [MysqlIdempotencyRecord] }),
              // The entity is listed above (the table is the migration's): nothing for the module to register.
              IdempotencyModule.forRoot({ dataSource: MARIADB_DATA_SOURCE, registerEntity: false }),
            ]
          : []),
      ],
      controllers: [CONTROLLERS[mode]],
      providers: [
        OrdersRepository,
        ...(mode === 'hand-rolled' ? [HandRolledStore] : []),
        ...(redis ? [{ provide: RedisConnection, useValue: redis }] : []),
      ],
    };
  }
}
