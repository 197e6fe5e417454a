import {
  Injectable,
  Module,
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { IdempotencyModule, IdempotencyRecord } from '../../../lib/index.js';
import { EffectsController } from './effects.controller.js';
import { IpcGate } from './ipc.js';
import { guardNewConnections } from './pg-connect-guard.js';
import { redisStore, type RedisStoreOptions } from './redis-store.js';
import { SweepLog } from './sweep-log.js';

/** The pg pool settings a test may choose (`POOL_MAX`, `POOL_CONNECTION_TIMEOUT_MS`). */
export interface PoolOptions {
  max?: number;
  connectionTimeoutMillis?: number;
}

/** Stands in for authentication: `X-User: alice` makes `req.user = { id: 'alice' }`. */
@Injectable()
class HeaderUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest();
    const user = request.headers['x-user'];
    if (typeof user === 'string') request.user = { id: user };
    return true;
  }
}

/**
 * One app instance: the library on the shared PostgreSQL, as users deploy it;
 * or, with `redis`, on a Redis store (side effects stay in PostgreSQL).
 */
@Module({})
export class WorkerModule implements OnModuleInit {
  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    if (!process.env.NO_CONNECT_GUARD) guardNewConnections(this.dataSource);
  }

  /**
   * @param pool options of the app's pg pool (TypeORM's `extra`), e.g. a small
   *   `max` to make app queries queue for connections; pg's defaults when empty.
   * @param redis when set, the idempotency store is a `RedisIdempotencyStore`
   *   there (its client closed on shutdown); unset: the default TypeORM store.
   */
  static forRoot(
    url: string,
    lockTimeout: number,
    sweepInterval?: number,
    pool: PoolOptions = {},
    redis?: RedisStoreOptions,
  ): DynamicModule {
    const store = redis ? redisStore(redis) : undefined;
    return {
      module: WorkerModule,
      imports: [
        // The test creates the tables; instances never synchronize the schema.
        TypeOrmModule.forRoot({ type: 'postgres', url, entities: [IdempotencyRecord], synchronize: false, extra: pool }),
        IdempotencyModule.forRoot({ lockTimeout, sweepInterval, ...(store && { store: store.store }) }),
      ],
      controllers: [EffectsController],
      providers: [IpcGate, SweepLog, { provide: APP_GUARD, useClass: HeaderUserGuard }, ...(store?.providers ?? [])],
    };
  }
}
