import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import pg from 'pg';
import { IdempotencyModule } from '../../lib/index.js';
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
};

/**
 * The app under test: one TypeORM pool of `poolSize` connections and
 * `POST /orders` served by the controller of `mode`. Only `library` and
 * `library-redis` import `IdempotencyModule`, so the other modes pay nothing
 * for it; `library-redis` gives it the store of `redis` (which it requires),
 * and the handler still inserts into PostgreSQL.
 */
@Module({})
export class BenchAppModule {
  static forRoot(mode: AppMode, url: string, poolSize: number, redis?: RedisConnection): DynamicModule {
    if (mode === 'library-redis' && !redis) throw new Error('the library-redis app needs a Redis connection');
    return {
      module: BenchAppModule,
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url, poolSize, driver: pg }),
        ...(mode === 'library' ? [IdempotencyModule.forRoot()] : []),
        ...(mode === 'library-redis' ? [IdempotencyModule.forRoot({ store: redis!.store })] : []),
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
