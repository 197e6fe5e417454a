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

const CONTROLLERS: Record<AppMode, Type> = {
  baseline: BaselineOrdersController,
  'hand-rolled': HandRolledOrdersController,
  library: LibraryOrdersController,
};

/**
 * The app under test: one TypeORM pool of `poolSize` connections and
 * `POST /orders` served by the controller of `mode`. Only `library` imports
 * `IdempotencyModule`, so the other modes pay nothing for it.
 */
@Module({})
export class BenchAppModule {
  static forRoot(mode: AppMode, url: string, poolSize: number): DynamicModule {
    return {
      module: BenchAppModule,
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url, poolSize, driver: pg }),
        ...(mode === 'library' ? [IdempotencyModule.forRoot()] : []),
      ],
      controllers: [CONTROLLERS[mode]],
      providers: [OrdersRepository, ...(mode === 'hand-rolled' ? [HandRolledStore] : [])],
    };
  }
}
