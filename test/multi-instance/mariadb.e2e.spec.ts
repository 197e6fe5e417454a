import { MYSQL_LABEL, mysqlDescribe } from '../support/mariadb.js';
import { MariadbRecords } from './support/mariadb-records.js';
import { describeSharedStore } from './support/shared-store-suite.js';

// DESIGN.md §8: a shared store passes the multi-process storm, here with the
// TypeORM store on MariaDB/MySQL: 3 processes, each with a `mysql`
// DataSource of its own, share one database (made for this file by the
// library's migration, dropped afterwards); side effects are still counted in
// PostgreSQL. The suite (support/shared-store-suite.ts) reads each record's
// row, its lease and ttl by the database's clock. Without a server at
// MYSQL_URL a local run leaves this file out with a "not run" line
// (jest.config.js); under CI (or run anyway) it fails here.
const describeWithMysql = await mysqlDescribe();

describeWithMysql(`multi-instance: TypeOrmIdempotencyStore on MariaDB/MySQL (3 processes, one database at ${MYSQL_LABEL})`, () => {
  describeSharedStore(() => MariadbRecords.open());
});
