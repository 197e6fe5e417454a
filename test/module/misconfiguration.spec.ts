import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Injectable, Module, Post, Sse, type LoggerService, type ModuleMetadata } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Redis } from 'ioredis';
import pg from 'pg';
import { of } from 'rxjs';
import { DataSource } from 'typeorm';
import {
  IdempotencyConfigurationError,
  IdempotencyModule,
  IdempotencyRecord,
  IdempotencyService,
  IdempotencyStoreUnavailableException,
  Idempotent,
  InMemoryIdempotencyStore,
  SqliteIdempotencyRecord,
  TransactionManager,
  TypeOrmIdempotencyStore,
} from '../../lib/index.js';
import { RedisIdempotencyStore } from '../../lib/stores/redis/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/** Collects what the app logs, to assert on startup warnings. */
class RecordingLogger implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}

/** Compiles and initialises an app of `imports` (and `controllers`, `providers`); the caller closes it. */
async function start(metadata: ModuleMetadata, logger: LoggerService | false = false) {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  moduleRef.useLogger(logger);
  return moduleRef.init();
}

/** Startup of a misconfigured app fails fast, with the fix in the message. */
describe('misconfiguration is refused at startup', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('forRootAsync with registerEntity: false leaves the record entity out of autoLoadEntities', async () => {
    const app = await start({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: database.url, autoLoadEntities: true }),
        IdempotencyModule.forRootAsync({ useFactory: () => ({ store: new InMemoryIdempotencyStore() }), registerEntity: false }),
      ],
    });
    try {
      expect(app.get(DataSource).hasMetadata(IdempotencyRecord)).toBe(false);
    } finally {
      await app.close();
    }
  });

  it('refuses to start when the idempotency table does not exist, naming the migration and synchronize', async () => {
    const startup = start({
      imports: [TypeOrmModule.forRoot({ type: 'postgres', url: database.url, entities: [] }), IdempotencyModule.forRoot()],
    });
    await expect(startup).rejects.toThrow(IdempotencyConfigurationError);
    await expect(startup).rejects.toThrow(/"idempotency_records" does not exist.*CreateIdempotencyRecords.*synchronize: true/);
  });

  it('refuses a DataSource type no dialect speaks, naming the supported ones and the store option', async () => {
    const oracle = { isInitialized: true, options: { type: 'oracle' } } as unknown as DataSource;
    await expect(new TypeOrmIdempotencyStore(oracle).verify()).rejects.toThrow(IdempotencyConfigurationError);
    await expect(new TypeOrmIdempotencyStore(oracle).claim({ scope: 's', principal: '', key: 'k', fingerprint: '', token: 't', lockTimeout: 1_000 })).rejects.toThrow(
      /supports PostgreSQL, MySQL\/MariaDB and SQLite .*not type "oracle".*`store`/,
    );
  });

  it('keeps records in the schema of a DataSource with `schema`', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query('CREATE SCHEMA app');
    await client.end();
    const app = await start({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: database.url, schema: 'app', entities: [IdempotencyRecord], synchronize: true }),
        IdempotencyModule.forRoot(),
      ],
    });
    try {
      const service = app.get(IdempotencyService);
      await service.execute('in-app-schema', () => 'first');
      await expect(service.execute('in-app-schema', () => 'second')).resolves.toBe('first');
      const rows = await app.get(DataSource).query('SELECT key FROM app.idempotency_records');
      expect(rows).toEqual([{ key: 'in-app-schema' }]);
    } finally {
      await app.close();
    }
  });

  it('starts when the store is only unreachable (an outage, not a misconfiguration), and answers 503 until it is back', async () => {
    // A real ioredis client on a port nothing listens on: every command fails at once.
    const redis = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      disconnectTimeout: 10,
    });
    redis.on('error', () => undefined);
    const logger = new RecordingLogger();
    const app = await start({ imports: [IdempotencyModule.forRoot({ store: new RedisIdempotencyStore(redis) })] }, logger);
    try {
      expect(logger.warnings).toEqual([expect.stringMatching(/unreachable at startup; starting anyway: .*cannot reach Redis/)]);
      await expect(app.get(IdempotencyService).execute('k', () => 'ran')).rejects.toBeInstanceOf(
        IdempotencyStoreUnavailableException,
      );
    } finally {
      await app.close();
      redis.disconnect();
    }
  });

  it.each([
    [{ lockTimeout: 0 }, /`lockTimeout` must be a number of milliseconds of at least 1000; got 0/],
    [{ ttl: Number.NaN }, /`ttl` must be a number of milliseconds of at least 0; got NaN/],
    [{ sweepInterval: -1 }, /`sweepInterval` must be/],
    [{ failOpen: 'yes' }, /`failOpen` must be true or false; got "yes"/],
    [{ lockTimout: 5000 }, /unknown option `lockTimout`/],
  ])('refuses module options %p', async (options, message) => {
    const startup = start({ imports: [IdempotencyModule.forRoot({ store: new InMemoryIdempotencyStore(), ...(options as object) })] });
    await expect(startup).rejects.toThrow(message);
  });
});

@Controller('jobs')
class JobsController {
  @Post()
  @Idempotent({ maxResponseBytes: -1 })
  create() {
    return 'created';
  }
}

@Controller('events')
class EventsController {
  @Sse()
  @Idempotent()
  stream() {
    return of({ data: 'tick' });
  }
}

@Controller()
class MessagesController {
  @MessagePattern('orders.create')
  @Idempotent()
  create() {
    return 'created';
  }
}

/** A provider method: not an HTTP route, a GraphQL mutation nor a message handler. */
@Injectable()
class OrdersResolver {
  @Idempotent()
  createOrder() {
    return 'created';
  }
}

@Module({ controllers: [MessagesController], providers: [OrdersResolver] })
class NotHttpModule {}

@Controller('transfers')
class ManagerWithoutAtomicController {
  @Post()
  @Idempotent()
  create(@TransactionManager() manager: unknown) {
    return { manager: !!manager };
  }
}

@Controller('transfers')
class AtomicController {
  @Post()
  @Idempotent({ atomic: true })
  create(@TransactionManager() manager: unknown) {
    return { manager: !!manager };
  }
}

describe('decorated handlers are checked at startup', () => {
  const store = () => new InMemoryIdempotencyStore();

  it('refuses @TransactionManager() on a route without atomic: true', async () => {
    const startup = start({ imports: [IdempotencyModule.forRoot({ store: store() })], controllers: [ManagerWithoutAtomicController] });
    await expect(startup).rejects.toThrow(/@TransactionManager\(\) on ManagerWithoutAtomicController.create needs @Idempotent\(\{ atomic: true \}\)/);
  });

  it.each([
    ['atomic: true', { atomic: true }, /Atomic mode .* needs PostgreSQL or MySQL\/MariaDB; the idempotency store's DataSource is better-sqlite3/],
  ])('refuses %s on a TypeORM store whose database cannot serve it (SQLite)', async (_, options, message) => {
    const startup = start({
      imports: [
        TypeOrmModule.forRoot({ type: 'better-sqlite3', database: ':memory:', entities: [SqliteIdempotencyRecord], synchronize: true }),
        IdempotencyModule.forRoot({ entity: SqliteIdempotencyRecord, ...options }),
      ],
    });
    await expect(startup).rejects.toThrow(message);
  });

  it('refuses an atomic route on a store without transactions, naming the one that has them', async () => {
    const startup = start({ imports: [IdempotencyModule.forRoot({ store: store() })], controllers: [AtomicController] });
    await expect(startup).rejects.toThrow(/AtomicController.create needs a store with transactions: the TypeORM store on PostgreSQL/);
  });

  it('refuses invalid @Idempotent() options, naming the route', async () => {
    const startup = start({ imports: [IdempotencyModule.forRoot({ store: store() })], controllers: [JobsController] });
    await expect(startup).rejects.toThrow(/@Idempotent\(\) on JobsController.create: `maxResponseBytes` must be/);
  });

  it('refuses @Idempotent() on a server-sent events route', async () => {
    const startup = start({ imports: [IdempotencyModule.forRoot({ store: store() })], controllers: [EventsController] });
    await expect(startup).rejects.toThrow(/EventsController.stream: a server-sent events stream cannot be replayed/);
  });

  it('warns where @Idempotent() has no effect (a provider method), and not on a message handler', async () => {
    const logger = new RecordingLogger();
    const app = await start({ imports: [IdempotencyModule.forRoot({ store: store() }), NotHttpModule] }, logger);
    await app.close();
    expect(logger.warnings.filter((warning) => warning.includes('has no effect'))).toEqual([
      expect.stringMatching(/@Idempotent\(\) on OrdersResolver.createOrder has no effect: it is not an HTTP route, a GraphQL mutation or a message handler/),
    ]);
  });

  it('refuses @Idempotent() in an app without IdempotencyModule, with the import to add', async () => {
    const startup = start({ controllers: [MessagesController] });
    await expect(startup).rejects.toThrow(/@Idempotent\(\) is used, but IdempotencyModule is not imported: add IdempotencyModule.forRoot\(\)/);
  });
});
