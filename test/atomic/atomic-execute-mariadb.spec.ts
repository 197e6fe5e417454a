import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import mysql from 'mysql2/promise';
import { DataSource, type EntityManager } from 'typeorm';
import {
  IdempotencyConfigurationError,
  IdempotencyKeyInFlightException,
  IdempotencyModule,
  IdempotencyService,
  MysqlIdempotencyRecord,
  TypeOrmIdempotencyStore,
} from '../../lib/index.js';
import { Gate } from '../fixtures/gate.js';
import { createMysqlDatabase, mysqlDescribe, type MysqlTestDatabase } from '../support/mariadb.js';
import { MYSQL_CLAIM_PATHS, storeOptionsOf } from './atomic-mariadb-app.js';
import { untilLockWaits } from './mariadb-lock-waits.js';

const describeWithMysql = await mysqlDescribe();

let keySequence = 0;
const newKey = () => `atomic-execute-mariadb-${process.pid}-${++keySequence}`;
const POOL = 2;
const SCOPE = 'default';

/** IdempotencyService.execute() in atomic mode and inside the caller's transaction on MariaDB, on a pool of two connections. */
describeWithMysql.each(MYSQL_CLAIM_PATHS)('IdempotencyService.execute() atomic, and joined to the caller’s transaction (MariaDB, %s, pool of 2)', (path) => {
  let database: MysqlTestDatabase;
  let moduleRef: TestingModule;
  let service: IdempotencyService;
  let dataSource: DataSource;
  /** Connections of the test's own, straight to the server: they see committed rows only. */
  let observer: mysql.Pool;
  const count = async (sql: string, value: string) => Number(((await observer.query(sql, [value]))[0] as { n: number }[])[0].n);
  const effects = (tag: string) => count('SELECT count(*) AS n FROM effects WHERE tag = ?', tag);
  const records = (key: string) => count('SELECT count(*) AS n FROM idempotency_records WHERE `key` = ?', key);
  const write = async (manager: EntityManager, tag: string) => {
    const { insertId } = await manager.query('INSERT INTO effects (tag) VALUES (?)', [tag]);
    return { id: insertId as number, tag };
  };
  const lockWaits = (n: number) => untilLockWaits(observer, database.name, n);

  beforeAll(async () => {
    database = await createMysqlDatabase('atomic');
    moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'mariadb', url: database.url, entities: [MysqlIdempotencyRecord], synchronize: true, poolSize: POOL }),
        IdempotencyModule.forRootAsync({
          registerEntity: false,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => ({ store: new TypeOrmIdempotencyStore(dataSource, storeOptionsOf(path)) }),
        }),
      ],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    service = moduleRef.get(IdempotencyService);
    dataSource = moduleRef.get(DataSource);
    await dataSource.query('CREATE TABLE effects (id int AUTO_INCREMENT PRIMARY KEY, tag varchar(200) NOT NULL) ENGINE=InnoDB');
    await dataSource.query('CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL) ENGINE=InnoDB');
    observer = mysql.createPool({ uri: database.url, connectionLimit: 2 });
  });

  afterAll(async () => {
    await observer?.end();
    await moduleRef?.close();
    await database?.drop();
  });

  it('commits the operation’s writes with the record ({ atomic: true }) and returns the stored result to a repeat', async () => {
    const key = newKey();
    const run = () => service.execute(key, (manager) => write(manager, key), { atomic: true });
    const first = await run();
    expect(await run()).toEqual(first);
    expect([await effects(key), await records(key)]).toEqual([1, 1]);
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

  it('runs the operation with the session’s own lock wait timeout, not the claim’s', async () => {
    const [[{ timeout }]] = (await observer.query('SELECT @@SESSION.innodb_lock_wait_timeout AS timeout')) as unknown as [[{ timeout: number }]];
    const read = (manager: EntityManager) => manager.query('SELECT @@SESSION.innodb_lock_wait_timeout AS timeout');
    const [inOperation] = await service.execute(newKey(), read, { atomic: true, wait: 3_000 });
    expect(Number(inOperation.timeout)).toBe(Number(timeout));
    // Joined: the caller's connection, after the claim and the completion.
    const after = await dataSource.transaction(async (manager) => {
      await service.execute(newKey(), (joined) => write(joined, 'timeout'), { manager, wait: 3_000 });
      return read(manager);
    });
    expect(Number(after[0].timeout)).toBe(Number(timeout));
  });

  it('lets a duplicate wait for the original’s commit (wait) and returns its result; the operation runs once', async () => {
    const key = newKey();
    const gate = new Gate();
    const original = service.execute(key, async (manager) => {
      const order = await write(manager, key);
      await gate.pass();
      return order;
    }, { atomic: true });
    await gate.arrived(1);
    const duplicate = service.execute(key, (manager) => write(manager, key), { atomic: true, wait: 10_000 });
    const committedMeanwhile = await lockWaits(1).then(() => effects(key)).finally(() => gate.open());
    expect(committedMeanwhile).toBe(0);
    expect(await duplicate).toEqual(await original);
    expect([await effects(key), await records(key)]).toEqual([1, 1]);
  });

  it(`does not deadlock: ${POOL * 3} concurrent callers' transactions, each joined by execute({ manager }), on a pool of ${POOL}`, async () => {
    const keys = Array.from({ length: POOL * 3 }, newKey);
    const inTransaction = (key: string) =>
      dataSource.transaction(async (manager) => {
        await write(manager, `${key}-before`);
        return service.execute(key, async (joined) => {
          expect(joined).toBe(manager); // the operation writes in the caller's transaction
          return write(joined, key);
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
      const failing = service.execute(key, async (joined) => {
        await write(joined, key);
        throw new Error('the operation fails');
      }, { manager });
      await expect(failing).rejects.toThrow('the operation fails');
      await write(manager, `${key}-caller`);
    });
    expect([await effects(`${key}-caller`), await effects(key), await records(key)]).toEqual([2, 0, 0]);
  });

  it('answers a joined duplicate in flight (wait 0) while another transaction holds the key; the caller’s transaction goes on', async () => {
    const key = newKey();
    const gate = new Gate();
    const holder = dataSource.transaction((manager) =>
      service.execute(key, async (joined) => {
        await gate.pass();
        return write(joined, key);
      }, { manager }),
    );
    await gate.arrived(1);
    await dataSource
      .transaction(async (manager) => {
        await write(manager, `${key}-duplicate`);
        await expect(service.execute(key, (joined) => write(joined, key), { manager })).rejects.toThrow(IdempotencyKeyInFlightException);
        await write(manager, `${key}-duplicate`);
      })
      .finally(() => gate.open());
    await holder;
    expect([await effects(`${key}-duplicate`), await effects(key), await records(key)]).toEqual([2, 1, 1]);
  });

  it('throws the deadlock (1213) to a joined caller that InnoDB chose as the victim: its whole transaction is gone', async () => {
    const key = newKey();
    const counter = keySequence;
    await dataSource.query('INSERT INTO counters (id, n) VALUES (?, 0)', [counter]);
    const other = await mysql.createConnection(database.url);
    try {
      // Another transaction holds the key, and writes more rows than the caller: InnoDB rolls back the lighter one.
      await other.query('START TRANSACTION');
      await other.query('INSERT INTO effects (tag) VALUES ' + Array.from({ length: 20 }, () => '(?)').join(', '), Array(20).fill(`${key}-other`));
      await other.query(
        'INSERT INTO idempotency_records (scope, principal, `key`, fingerprint, status, token, locked_until, created_at, expires_at) ' +
          "VALUES (?, '', ?, '', 'processing', 'other', UTC_TIMESTAMP(3) + INTERVAL 1 MINUTE, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) + INTERVAL 1 MINUTE)",
        [SCOPE, key],
      );
      const caller = dataSource.transaction(async (manager) => {
        await manager.query('UPDATE counters SET n = n + 1 WHERE id = ?', [counter]);
        return service.execute(key, (joined) => write(joined, key), { manager, wait: 10_000 });
      });
      const outcome = caller.then(() => null, (error: unknown) => error);
      await lockWaits(1); // the caller's claim waits for the other's record
      await other.query('UPDATE counters SET n = n + 1 WHERE id = ?', [counter]); // ...which now waits for the caller: a deadlock
      expect(await outcome).toMatchObject({ errno: 1213 });
      await other.query('ROLLBACK');
    } finally {
      await other.end();
    }
    expect([await effects(key), await records(key), await count('SELECT n FROM counters WHERE id = ?', String(counter))]).toEqual([0, 0, 0]);
  });

  it('refuses a manager that is not in a transaction, naming the fix', async () => {
    await expect(service.execute(newKey(), () => 1, { manager: dataSource.manager })).rejects.toThrow(IdempotencyConfigurationError);
  });
});
