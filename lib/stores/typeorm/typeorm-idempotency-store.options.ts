/** Options of {@link TypeOrmIdempotencyStore}. */
export interface TypeOrmIdempotencyStoreOptions {
  /**
   * Table name, schema-qualified if needed. Default: where the DataSource
   * keeps the record entity, else `idempotency_records` in the DataSource's
   * `schema`.
   */
  table?: string;
  /**
   * PostgreSQL: send the statements as named prepared statements, so the
   * server parses and plans each once per connection instead of on every
   * request (about half its CPU per claim). Default `true`. Set `false`
   * behind a pooler that cannot keep prepared statements (PgBouncer in
   * transaction mode before 1.21, or without `max_prepared_statements`).
   */
  preparedStatements?: boolean;
  /**
   * PostgreSQL, MySQL/MariaDB: connections of the store's own small pool (its
   * "lease lane") for lease renewals, completions and releases, so they never
   * wait behind the application's queries in the DataSource's pool. Default 4.
   */
  leaseConnections?: number;
}
