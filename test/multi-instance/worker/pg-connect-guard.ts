import type pg from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

/**
 * Keeps a PostgreSQL restart from killing the process (see RELIABILITY.md,
 * "PostgreSQL restarts and TypeORM").
 *
 * TypeORM 1.1 attaches its `error` listener to a pooled connection one
 * promise tick after pg-pool hands the connection over. When the server shuts
 * down while a connection is being opened, `ReadyForQuery` and the fatal
 * `57P01 terminating connection` can arrive in one TCP read: pg emits the
 * error in that gap, with no listener, and Node exits on the unhandled
 * `error` event. This gives every new connection a listener from the start.
 * A broken connection is still discarded: its next query fails and the pool
 * drops it on release.
 */
export function guardNewConnections(dataSource: DataSource): void {
  const pool = (dataSource.driver as PostgresDriver).master as pg.Pool;
  pool.on('connect', (client) => client.on('error', () => undefined));
}
