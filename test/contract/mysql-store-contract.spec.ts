import { afterAll, beforeAll } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { CreateIdempotencyRecords } from '../../lib/index.js';
import { withoutInsertReturning } from '../../lib/stores/typeorm/mysql/mysql-server.js';
import { createMysqlDatabase, MYSQL_LABEL, mysqlDescribe, type MysqlTestDatabase } from '../support/mariadb.js';
import { MysqlStores, mysql2WithSessionTimeZone, openMysqlDataSource, type MysqlType } from '../support/mysql-stores.js';
import { describeStoreContract } from './store-contract.js';

const describeWithMysql = await mysqlDescribe();

/**
 * The contract on the MariaDB server of the tests, in both claim paths:
 * `INSERT ... RETURNING` (MariaDB, one statement) and the MySQL path
 * (upsert, then SELECT) forced on the same server. Both DataSource types of
 * TypeORM's MySQL driver; the table comes from `synchronize` (`mariadb`) or
 * from the migration (`mysql`).
 */
describeWithMysql.each<[MysqlType, string]>([
  ['mariadb', 'synchronize'],
  ['mysql', 'the CreateIdempotencyRecords migration'],
])(`TypeOrmIdempotencyStore on ${MYSQL_LABEL} (DataSource type %s, table from %s)`, (type) => {
  let database: MysqlTestDatabase;
  let dataSource: DataSource;
  const stores = new MysqlStores();

  beforeAll(async () => {
    database = await createMysqlDatabase();
    dataSource = await openMysqlDataSource(
      database.url,
      type,
      type === 'mariadb' ? { synchronize: true } : { migrations: [CreateIdempotencyRecords], migrationsRun: true },
    );
  });

  afterAll(async () => {
    await stores.closeAll();
    await dataSource?.destroy();
    await database?.drop();
  });

  const emptyStore = async (options = {}) => {
    await stores.closeAll();
    await dataSource.query('TRUNCATE idempotency_records');
    return stores.create(dataSource, options);
  };

  describeStoreContract(`TypeOrmIdempotencyStore, ${type}, INSERT ... RETURNING`, () => emptyStore());
  describeStoreContract(`TypeOrmIdempotencyStore, ${type}, upsert then SELECT (the MySQL path)`, () =>
    emptyStore(withoutInsertReturning()),
  );
});

/**
 * The contract again with every connection's session in another time zone
 * (the DataSource's pool and the store's lease lane): times come from
 * `UTC_TIMESTAMP(3)` only.
 */
describeWithMysql('TypeOrmIdempotencyStore on MariaDB with session time_zone +05:00', () => {
  let database: MysqlTestDatabase;
  let dataSource: DataSource;
  const stores = new MysqlStores();

  beforeAll(async () => {
    database = await createMysqlDatabase();
    dataSource = await openMysqlDataSource(database.url, 'mariadb', {
      synchronize: true,
      timezone: '+05:00',
      driver: mysql2WithSessionTimeZone('+05:00'),
    });
  });

  afterAll(async () => {
    await stores.closeAll();
    await dataSource?.destroy();
    await database?.drop();
  });

  const emptyStore = async (options = {}) => {
    await stores.closeAll();
    await dataSource.query('TRUNCATE idempotency_records');
    return stores.create(dataSource, options);
  };

  describeStoreContract('TypeOrmIdempotencyStore, +05:00, INSERT ... RETURNING', () => emptyStore());
  describeStoreContract('TypeOrmIdempotencyStore, +05:00, upsert then SELECT', () => emptyStore(withoutInsertReturning()));
});
