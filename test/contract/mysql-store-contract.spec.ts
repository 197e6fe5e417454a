import { afterAll, beforeAll } from '@jest/globals';
import type { DataSource, DataSourceOptions } from 'typeorm';
import { CreateIdempotencyRecords, type TypeOrmIdempotencyStoreOptions } from '../../lib/index.js';
import { withoutInsertReturning } from '../../lib/stores/typeorm/mysql/mysql-server.js';
import { createMysqlDatabase, MYSQL_LABEL, mysqlDescribe, type MysqlTestDatabase } from '../support/mariadb.js';
import { MysqlStores, mysql2WithSessionTimeZone, openMysqlDataSource, type MysqlType } from '../support/mysql-stores.js';
import { describeStoreContract } from './store-contract.js';

const describeWithMysql = await mysqlDescribe();

/**
 * Registers the hooks of the enclosing describe: a database of its own, with
 * a DataSource of `type` opened on it with `options`. Returns what the
 * contract needs: a store on an empty table (the stores opened before closed).
 */
function emptyStoresOnNewDatabase(type: MysqlType, options: Partial<DataSourceOptions>) {
  let database: MysqlTestDatabase;
  let dataSource: DataSource;
  const stores = new MysqlStores();

  beforeAll(async () => {
    database = await createMysqlDatabase();
    dataSource = await openMysqlDataSource(database.url, type, options);
  });

  afterAll(async () => {
    await stores.closeAll();
    await dataSource?.destroy();
    await database?.drop();
  });

  return async (storeOptions: TypeOrmIdempotencyStoreOptions = {}) => {
    await stores.closeAll();
    await dataSource.query('TRUNCATE idempotency_records');
    return stores.create(dataSource, storeOptions);
  };
}

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
  const emptyStore = emptyStoresOnNewDatabase(
    type,
    type === 'mariadb' ? { synchronize: true } : { migrations: [CreateIdempotencyRecords], migrationsRun: true },
  );

  describeStoreContract(`TypeOrmIdempotencyStore, ${type}, INSERT ... RETURNING`, () => emptyStore(), { cannotWatch: true });
  describeStoreContract(`TypeOrmIdempotencyStore, ${type}, upsert then SELECT (the MySQL path)`, () =>
    emptyStore(withoutInsertReturning()), { cannotWatch: true },
  );
});

/**
 * The contract again with every connection's session in another time zone
 * (the DataSource's pool and the store's lease lane): times come from
 * `UTC_TIMESTAMP(3)` only.
 */
describeWithMysql('TypeOrmIdempotencyStore on MariaDB with session time_zone +05:00', () => {
  const emptyStore = emptyStoresOnNewDatabase('mariadb', {
    synchronize: true,
    timezone: '+05:00',
    driver: mysql2WithSessionTimeZone('+05:00'),
  });

  describeStoreContract('TypeOrmIdempotencyStore, +05:00, INSERT ... RETURNING', () => emptyStore(), { cannotWatch: true });
  describeStoreContract('TypeOrmIdempotencyStore, +05:00, upsert then SELECT', () => emptyStore(withoutInsertReturning()), { cannotWatch: true });
});
