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
import { AtomicEffectsController } from './atomic-effects.controller.js';
import { dynamoDbStore, type DynamoDbStoreOptions } from './dynamodb-store.js';
import { EffectsController } from './effects.controller.js';
import { IpcGate } from './ipc.js';
import { mysqlStore, type MysqlStoreOptions } from './mysql-store.js';
import { guardNewConnections } from './pg-connect-guard.js';
import { redisStore, type RedisStoreOptions } from './redis-store.js';
import { SweepLog } from './sweep-log.js';

/** The pg pool settings a test may choose (`POOL_MAX`, `POOL_CONNECTION_TIMEOUT_MS`). */
export interface PoolOptions {
  max?: number;
  connectionTimeoutMillis?: number;
}

/**
 * Where an instance keeps its records when not in the default TypeORM store
 * on PostgreSQL: a `RedisIdempotencyStore`, the TypeORM store on a
 * MySQL/MariaDB DataSource of its own, or a `DynamoDbIdempotencyStore`.
 */
export type WorkerStoreOptions =
  | ({ type: 'redis' } & RedisStoreOptions)
  | ({ type: 'mysql' } & MysqlStoreOptions)
  | ({ type: 'dynamodb' } & DynamoDbStoreOptions);

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
 * or, with `store`, on Redis, MySQL/MariaDB or DynamoDB (side effects stay in PostgreSQL).
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
   * @param store when set, where the records live: a `RedisIdempotencyStore`
   *   (its client closed on shutdown), or the TypeORM store on a `mysql`
   *   DataSource; unset: the default TypeORM store on PostgreSQL.
   */
  static forRoot(
    url: string,
    lockTimeout: number,
    sweepInterval?: number,
    pool: PoolOptions = {},
    store?: WorkerStoreOptions,
  ): DynamicModule {
    const redis = store?.type === 'redis' ? redisStore(store) : undefined;
    const mysql = store?.type === 'mysql' ? mysqlStore(store) : undefined;
    const dynamodb = store?.type === 'dynamodb' ? dynamoDbStore(store) : undefined;
    return {
      module: WorkerModule,
      imports: [
        // The test creates the tables; instances never synchronize the schema.
        TypeOrmModule.forRoot({ type: 'postgres', url, entities: [IdempotencyRecord], synchronize: false, extra: pool }),
        ...(mysql?.imports ?? []),
        IdempotencyModule.forRoot({ lockTimeout, sweepInterval, ...(redis && { store: redis.store }), ...mysql?.options, ...dynamodb?.options }),
      ],
      // Atomic mode needs the PostgreSQL store's transactions: its route only on that store.
      controllers: [EffectsController, ...(store ? [] : [AtomicEffectsController])],
      providers: [IpcGate, SweepLog, { provide: APP_GUARD, useClass: HeaderUserGuard }, ...(redis?.providers ?? []), ...(dynamodb?.providers ?? [])],
    };
  }
}
