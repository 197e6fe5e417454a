import { type MysqlDriverInternals, type OwnMysqlPool, writePoolOf } from './mysql-pool.js';

/**
 * A small mysql2 pool of the store's own, with the connection settings of the
 * DataSource's (write) pool, for the writes a live request depends on: lease
 * renewals, completions and releases. They never queue behind the
 * application's own queries, so a pool saturated by handlers cannot make a
 * running request lose its lease (DESIGN.md §6). Created on first use.
 */
export class MysqlLeaseLane {
  private lane?: Promise<OwnMysqlPool>;

  constructor(
    private readonly driver: MysqlDriverInternals,
    private readonly connections: number,
  ) {
    writePoolOf(driver); // the same server as the claims
  }

  /** The lane's pool, opened on first use. */
  get pool(): Promise<OwnMysqlPool> {
    return (this.lane ??= this.open());
  }

  /** Closes the lane's connections (if it was ever opened). */
  async close(): Promise<void> {
    const lane = this.lane;
    this.lane = undefined;
    const pool = await lane?.catch(() => undefined);
    if (pool) await new Promise<void>((resolve, reject) => pool.end((error) => (error ? reject(error) : resolve())));
  }

  private async open(): Promise<OwnMysqlPool> {
    const { options } = this.driver;
    const credentials = options.replication?.master ?? options;
    const connection = await this.driver.createConnectionOptions(options, credentials);
    const lane = this.driver.mysql.createPool({ ...connection, connectionLimit: this.connections, flags: withFoundRows(connection.flags) });
    // An idle connection that breaks (server restart) must not crash the process.
    lane.on('connection', (client) => client.on('error', () => undefined));
    return lane;
  }
}

/**
 * mysql2's `flags` with FOUND_ROWS on: an UPDATE then reports the rows it
 * matched, not only those it changed, so a lease renewed twice in the same
 * millisecond still counts as renewed.
 */
function withFoundRows(flags: unknown): string[] {
  const list = Array.isArray(flags) ? flags.map(String) : String(flags ?? '').split(/\s*,\s*/);
  return [...list.filter((flag) => flag && flag.toUpperCase() !== '-FOUND_ROWS'), 'FOUND_ROWS'];
}
