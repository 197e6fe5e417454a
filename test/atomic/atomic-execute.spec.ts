import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import pg from 'pg';
import { DataSource, type EntityManager } from 'typeorm';
import { IdempotencyConfigurationError, IdempotencyModule, IdempotencyRecord, IdempotencyService } from '../../lib/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let keySequence = 0;
const newKey = () => `atomic-execute-${++keySequence}`;
const POOL = 2;

/** IdempotencyService.execute() in atomic mode and inside the caller's transaction, on a pool of two connections. */
describe('IdempotencyService.execute() atomic, and joined to the caller’s transaction (PostgreSQL, pool of 2)', () => {
  let database: TestDatabase;
  let moduleRef: TestingModule;
  let service: IdempotencyService;
  let dataSource: DataSource;
  let observer: pg.Pool;
  const count = async (sql: string, value: string) => Number((await observer.query(sql, [value])).rows[0].n);
  const effects = (tag: string) => count('SELECT count(*) AS n FROM effects WHERE tag = $1', tag);
  const records = (key: string) => count('SELECT count(*) AS n FROM idempotency_records WHERE key = $1', key);
  const write = (manager: EntityManager, tag: string) => manager.query('INSERT INTO effects (tag) VALUES ($1) RETURNING id', [tag]);

  beforeAll(async () => {
    database = await createTestDatabase();
    moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: database.url, entities: [IdempotencyRecord], synchronize: true, poolSize: POOL }),
        IdempotencyModule.forRoot(),
      ],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    service = moduleRef.get(IdempotencyService);
    dataSource = moduleRef.get(DataSource);
    await dataSource.query('CREATE TABLE effects (id serial PRIMARY KEY, tag text NOT NULL)');
    observer = new pg.Pool({ connectionString: database.url, max: 1 });
  });

  afterAll(async () => {
    await observer?.end();
    await moduleRef?.close();
    await database?.drop();
  });

  it('commits the operation’s writes with the record ({ atomic: true }) and returns the stored result to a repeat', async () => {
    const key = newKey();
    const run = () => service.execute(key, async (manager) => (await write(manager, key))[0], { atomic: true });
    const first = await run();
    expect(await run()).toEqual(first);
    expect(await effects(key)).toBe(1);
    expect(await records(key)).toBe(1);
  });

  it('rolls back the writes and the record when the operation throws', async () => {
    const key = newKey();
    const failing = service.execute(
      key,
      async (manager) => {
        await write(manager, key);
        throw new Error('after the write');
      },
      { atomic: true },
    );
    await expect(failing).rejects.toThrow('after the write');
    expect([await effects(key), await records(key)]).toEqual([0, 0]);
  });

  it(`does not deadlock: ${POOL * 3} concurrent callers' transactions, each joined by execute({ manager }), on a pool of ${POOL}`, async () => {
    const keys = Array.from({ length: POOL * 3 }, newKey);
    const inTransaction = (key: string) =>
      dataSource.transaction(async (manager) => {
        await write(manager, `${key}-before`);
        return service.execute(key, async (joined) => {
          expect(joined).toBe(manager); // the operation writes in the caller's transaction
          return (await write(joined, key))[0];
        }, { manager });
      });
    const first = await Promise.all(keys.map(inTransaction));
    const again = await Promise.all(keys.map(inTransaction));
    expect(again).toEqual(first);
    for (const key of keys) {
      expect([key, await effects(key), await records(key), await effects(`${key}-before`)]).toEqual([key, 1, 1, 2]);
    }
  });

  it('keeps nothing of a joined execute() whose caller rolls back', async () => {
    const key = newKey();
    const rolledBack = dataSource.transaction(async (manager) => {
      await service.execute(key, (joined) => write(joined, key), { manager });
      throw new Error('the caller rolls back');
    });
    await expect(rolledBack).rejects.toThrow('the caller rolls back');
    expect([await effects(key), await records(key)]).toEqual([0, 0]);
  });

  it('undoes only its own savepoint when a joined operation throws: the caller’s transaction goes on', async () => {
    const key = newKey();
    await dataSource.transaction(async (manager) => {
      await write(manager, `${key}-caller`);
      await expect(
        service.execute(
          key,
          async (joined) => {
            await write(joined, key);
            throw new Error('the operation fails');
          },
          { manager },
        ),
      ).rejects.toThrow('the operation fails');
      await write(manager, `${key}-caller`);
    });
    expect([await effects(`${key}-caller`), await effects(key), await records(key)]).toEqual([2, 0, 0]);
  });

  it('refuses a manager that is not in a transaction, naming the fix', async () => {
    await expect(service.execute(newKey(), () => 1, { manager: dataSource.manager })).rejects.toThrow(IdempotencyConfigurationError);
  });
});
