import { Body, Controller, Module, Post, ServiceUnavailableException, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import {
  Idempotent,
  IdempotencyModule,
  MysqlIdempotencyRecord,
  TransactionManager,
  TypeOrmIdempotencyStore,
  type TypeOrmIdempotencyStoreOptions,
} from '../../lib/index.js';
import { withoutInsertReturning } from '../../lib/stores/typeorm/mysql/mysql-server.js';
import { Gates } from '../fixtures/gates.js';

/** The table the atomic handlers write to (plain SQL that MySQL 8 and MariaDB both take). */
export const ATOMIC_MYSQL_DDL = 'CREATE TABLE IF NOT EXISTS atomic_orders (id int AUTO_INCREMENT PRIMARY KEY, item varchar(200) NOT NULL) ENGINE=InnoDB';

/** How the store claims: MariaDB's one statement with `SET STATEMENT`, or the MySQL path (forced on MariaDB). */
export type MysqlClaimPath = 'INSERT ... RETURNING' | 'upsert then SELECT';
export const MYSQL_CLAIM_PATHS: MysqlClaimPath[] = ['INSERT ... RETURNING', 'upsert then SELECT'];

/** The store's options for a claim path. */
export const storeOptionsOf = (path: MysqlClaimPath): TypeOrmIdempotencyStoreOptions =>
  path === 'INSERT ... RETURNING' ? {} : withoutInsertReturning();

interface OrderInput {
  item: string;
  /** Hold at this gate after the write, before the response (and so before the commit). */
  gate?: string;
  /** Throw after the write: 'error' (500) or 'unavailable' (503, not stored). */
  fail?: 'error' | 'unavailable';
}

/** The atomic routes of `atomic-app.ts`, in SQL for MySQL/MariaDB. */
@Controller('atomic')
export class MysqlAtomicController {
  constructor(private readonly gates: Gates) {}

  @Post('orders')
  @Idempotent({ atomic: true })
  async create(@Body() input: OrderInput, @TransactionManager() manager: EntityManager) {
    const { insertId } = await manager.query('INSERT INTO atomic_orders (item) VALUES (?)', [input.item]);
    if (input.gate) await this.gates.of(input.gate).pass();
    if (input.fail === 'error') throw new Error('the handler failed after its write');
    if (input.fail === 'unavailable') throw new ServiceUnavailableException('not now');
    return { id: insertId, item: input.item };
  }

  /** The same, with a wait for a concurrent original. */
  @Post('waiting-orders')
  @Idempotent({ atomic: true, wait: 10_000 })
  createWaiting(@Body() input: OrderInput, @TransactionManager() manager: EntityManager) {
    return this.create(input, manager);
  }

  /** A nested `manager.transaction()` becomes a savepoint inside the request's transaction (never a COMMIT of it). */
  @Post('nested')
  @Idempotent({ atomic: true })
  async nested(@Body() input: OrderInput, @TransactionManager() manager: EntityManager) {
    await manager.transaction((inner) => inner.query('INSERT INTO atomic_orders (item) VALUES (?)', [`${input.item}-inner`]));
    await manager
      .transaction(async (inner) => {
        await inner.query('INSERT INTO atomic_orders (item) VALUES (?)', [`${input.item}-rolled-back`]);
        throw new Error('undo the inner one only');
      })
      .catch(() => undefined);
    if (input.fail === 'error') throw new Error('the handler failed after its nested transactions');
    return { nested: true };
  }
}

/** The atomic app on MariaDB/MySQL at `url`, its store claiming by `path`. */
@Module({})
export class MysqlAtomicAppModule {
  static forRoot(url: string, path: MysqlClaimPath): DynamicModule {
    return {
      module: MysqlAtomicAppModule,
      imports: [
        TypeOrmModule.forRoot({ type: 'mariadb', url, entities: [MysqlIdempotencyRecord], synchronize: true }),
        IdempotencyModule.forRootAsync({
          registerEntity: false,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => ({ store: new TypeOrmIdempotencyStore(dataSource, storeOptionsOf(path)) }),
        }),
      ],
      controllers: [MysqlAtomicController],
      providers: [Gates],
    };
  }
}
