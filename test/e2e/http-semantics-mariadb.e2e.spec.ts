import { afterAll, beforeAll } from '@jest/globals';
import { DataSource } from 'typeorm';
import { CreateIdempotencyRecords, MysqlIdempotencyRecord, TypeOrmIdempotencyStore } from '../../lib/index.js';
import { createMysqlDatabase, MYSQL_LABEL, mysqlDescribe, type MysqlTestDatabase } from '../support/mariadb.js';
import { describeHttpSemantics } from './http-semantics.js';

// The HTTP suite with the TypeORM store on a `mysql` DataSource of its own: a
// fresh database on the server at MYSQL_URL, its table made by the library's
// migration (`synchronize` is for `type: 'mariadb'` on MariaDB: the store
// refuses it on `mysql`). The app's handlers still write to PostgreSQL.
const describeWithMysql = await mysqlDescribe();

describeWithMysql(`MariaDB/MySQL at ${MYSQL_LABEL}`, () => {
  let database: MysqlTestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createMysqlDatabase();
    dataSource = new DataSource({
      type: 'mysql',
      url: database.url,
      entities: [MysqlIdempotencyRecord],
      migrations: [CreateIdempotencyRecords],
      migrationsRun: true,
    });
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  // A store per adapter's app: the app closes its lease lane on shutdown, never the DataSource.
  describeHttpSemantics('TypeOrmIdempotencyStore on MariaDB/MySQL', () => ({ store: new TypeOrmIdempotencyStore(dataSource) }));
});
