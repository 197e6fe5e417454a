import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import pg from 'pg';
import { IdempotencyModule, MysqlIdempotencyRecord, type InMemoryIdempotencyStore } from '../../lib/index.js';
import { MAX_DYNAMODB_RESPONSE_BYTES } from '../../lib/stores/dynamodb/index.js';
import { isWaitMode, type AppMode } from '../protocol.js';
import { AtomicOrdersController } from './atomic.controller.js';
import { BaselineOrdersController } from './baseline.controller.js';
import { DynamoDbConnection } from './dynamodb-connection.js';
import { HandRolledOrdersController } from './hand-rolled.controller.js';
import { HandRolledStore } from './hand-rolled.store.js';
import { LibraryOrdersController } from './library.controller.js';
import { OrdersRepository } from './orders.repository.js';
import type { PeerApp } from './peer-idempotency.js';
import { RedisConnection } from './redis-connection.js';
import { WaitOrdersController } from './wait.controller.js';
import { WaitRounds } from './wait-rounds.js';

/** The controller of each mode; the `peer-*` modes' comes with the peer (see {@link BenchStores.peer}). */
const CONTROLLERS: Record<AppMode, Type | undefined> = {
  baseline: BaselineOrdersController,
  'hand-rolled': HandRolledOrdersController,
  library: LibraryOrdersController,
  'library-redis': LibraryOrdersController,
  'library-dynamodb': LibraryOrdersController,
  'library-mariadb': LibraryOrdersController,
  'library-memory': LibraryOrdersController,
  'library-atomic': AtomicOrdersController,
  'library-wait': WaitOrdersController,
  'library-wait-redis': WaitOrdersController,
  'peer-memory': undefined,
  'peer-redis': undefined,
};

/** Name of the MariaDB DataSource of `library-mariadb`, the app's second one. */
const MARIADB_DATA_SOURCE = 'idempotency';

/** The idempotency store of the modes that do not use the module's default one. */
export interface BenchStores {
  /** `library-redis`, `library-wait-redis`: the app's Redis client and the store on it. */
  redis?: RedisConnection;
  /** `library-dynamodb`: the app's DynamoDB client and the store on it. */
  dynamodb?: DynamoDbConnection;
  /** `library-mariadb`: the MariaDB database of the store. */
  mysqlUrl?: string;
  /** `library-memory`: the store. */
  memory?: InMemoryIdempotencyStore;
  /** `peer-*`: the peer library's module (with its store) and controller. */
  peer?: PeerApp;
}

/**
 * The app under test: one TypeORM pool of `poolSize` connections and
 * `POST /orders` served by the controller of `mode`. Only the `library*`
 * modes import `IdempotencyModule`, so the other modes pay nothing for it;
 * `library-redis` and `library-wait-redis` give it the store of `stores.redis`, `library-mariadb`
 * a second DataSource on `stores.mysqlUrl` (`type: 'mysql'`, a pool of
 * `poolSize` too) for its default TypeORM store, `library-memory` the store
 * of `stores.memory`. The `peer-*` modes import the peer's module of
 * `stores.peer` instead. The handler always inserts into PostgreSQL.
 */
@Module({})
export class BenchAppModule {
  static forRoot(mode: AppMode, url: string, poolSize: number, { redis, mysqlUrl, memory, peer, dynamodb }: BenchStores = {}): DynamicModule {
    if ((mode === 'library-redis' || mode === 'library-wait-redis') && !redis) throw new Error(`the ${mode} app needs a Redis connection`);
    if (mode === 'library-dynamodb' && !dynamodb) throw new Error('the library-dynamodb app needs a DynamoDB connection');
    if (mode === 'library-mariadb' && !mysqlUrl) throw new Error('the library-mariadb app needs a MariaDB database');
    if (mode === 'library-memory' && !memory) throw new Error('the library-memory app needs its in-memory store');
    const controller = mode.startsWith('peer-') ? peer?.controller : CONTROLLERS[mode];
    if (!controller) throw new Error(`the ${mode} app needs the peer library's module and controller`);
    return {
      module: BenchAppModule,
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url, poolSize, driver: pg }),
        ...(mode === 'library' || mode === 'library-atomic' || mode === 'library-wait' ? [IdempotencyModule.forRoot()] : []),
        ...(mode === 'library-redis' || mode === 'library-wait-redis' ? [IdempotencyModule.forRoot({ store: redis!.store })] : []),
        ...(mode === 'library-mariadb'
          ? [
              TypeOrmModule.forRoot({ name: MARIADB_DATA_SOURCE, type: 'mysql', url: mysqlUrl, poolSize, entities: [MysqlIdempotencyRecord] }),
              // The entity is listed above (the table is the migration's): nothing for the module to register.
              IdempotencyModule.forRoot({ dataSource: MARIADB_DATA_SOURCE, registerEntity: false }),
            ]
          : []),
        ...(mode === 'library-memory' ? [IdempotencyModule.forRoot({ store: memory! })] : []),
        ...(dynamodb ? [IdempotencyModule.forRoot({ store: dynamodb.store, maxResponseBytes: MAX_DYNAMODB_RESPONSE_BYTES })] : []),
        ...(peer ? [peer.module] : []),
      ],
      controllers: [controller],
      providers: [
        OrdersRepository,
        ...(mode === 'hand-rolled' ? [HandRolledStore] : []),
        ...(isWaitMode(mode) ? [WaitRounds] : []),
        ...(redis ? [{ provide: RedisConnection, useValue: redis }] : []),
        ...(dynamodb ? [{ provide: DynamoDbConnection, useValue: dynamodb }] : []),
      ],
    };
  }
}
