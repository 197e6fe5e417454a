import { Body, Controller, Module, Post, ServiceUnavailableException, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { Idempotent, IdempotencyModule, IdempotencyRecord, TransactionManager, type IdempotencyModuleOptions } from '../../lib/index.js';
import { Gates } from '../fixtures/gates.js';

/** The table the atomic handlers write to, and the triggers that make a COMMIT slow or fail. */
export const ATOMIC_DDL = [
  'CREATE TABLE IF NOT EXISTS atomic_orders (id serial PRIMARY KEY, item text NOT NULL)',
  `CREATE OR REPLACE FUNCTION atomic_orders_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF NEW.item = 'slow-commit' THEN PERFORM pg_sleep(0.3); END IF;
     IF NEW.item = 'fail-commit' THEN RAISE EXCEPTION 'refused at commit'; END IF;
     RETURN NULL;
   END $$`,
  `DO $$ BEGIN
     CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON atomic_orders DEFERRABLE INITIALLY DEFERRED
       FOR EACH ROW EXECUTE FUNCTION atomic_orders_at_commit();
   EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
];

interface OrderInput {
  item: string;
  /** Hold at this gate after the write, before the response (and so before the commit). */
  gate?: string;
  /** Throw after the write: 'error' (500) or 'unavailable' (503, not stored). */
  fail?: 'error' | 'unavailable';
}

@Controller('atomic')
export class AtomicController {
  constructor(private readonly gates: Gates) {}

  @Post('orders')
  @Idempotent({ atomic: true })
  async create(@Body() input: OrderInput, @TransactionManager() manager: EntityManager) {
    const [order] = await manager.query('INSERT INTO atomic_orders (item) VALUES ($1) RETURNING id, item', [input.item]);
    if (input.gate) await this.gates.of(input.gate).pass();
    if (input.fail === 'error') throw new Error('the handler failed after its write');
    if (input.fail === 'unavailable') throw new ServiceUnavailableException('not now');
    return order;
  }

  /** The same, with a wait for a concurrent original. */
  @Post('waiting-orders')
  @Idempotent({ atomic: true, wait: 10_000 })
  createWaiting(@Body() input: OrderInput, @TransactionManager() manager: EntityManager) {
    return this.create(input, manager);
  }

  /** A nested `manager.transaction()` becomes a savepoint inside the request's transaction. */
  @Post('nested')
  @Idempotent({ atomic: true })
  async nested(@Body() input: OrderInput, @TransactionManager() manager: EntityManager) {
    await manager.transaction((inner) => inner.query('INSERT INTO atomic_orders (item) VALUES ($1)', [`${input.item}-inner`]));
    await manager
      .transaction(async (inner) => {
        await inner.query('INSERT INTO atomic_orders (item) VALUES ($1)', [`${input.item}-rolled-back`]);
        throw new Error('undo the inner one only');
      })
      .catch(() => undefined);
    return { nested: true };
  }
}

@Module({})
export class AtomicAppModule {
  static forRoot(url: string, options: IdempotencyModuleOptions = {}, poolSize = 10): DynamicModule {
    return {
      module: AtomicAppModule,
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url, entities: [IdempotencyRecord], synchronize: true, poolSize }),
        IdempotencyModule.forRoot(options),
      ],
      controllers: [AtomicController],
      providers: [Gates],
    };
  }
}
