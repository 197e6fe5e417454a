/** The part of pg's `Pool` the store uses (TypeORM's PostgreSQL driver keeps it as `master`). */
export interface PgPool {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: never[]; rowCount: number | null }>;
  on(event: 'error' | 'connect', listener: (arg: never) => void): unknown;
  end(): Promise<void>;
  options: Record<string, unknown>;
  /** The class of the pool's connections (pg's `Client`). */
  Client: new (options: Record<string, unknown>) => unknown;
}

/**
 * A small pg pool of the store's own, with the connection settings of the
 * application's pool, for the writes a live request depends on: lease
 * renewals, completions, releases. They never queue behind the application's
 * own queries, so a pool saturated by handlers cannot make a running request
 * lose its lease (DESIGN.md §6). Created on first use.
 */
export class LeaseLane {
  private lane?: PgPool;

  constructor(
    private readonly applicationPool: PgPool,
    private readonly connections: number,
  ) {}

  get pool(): PgPool {
    return (this.lane ??= this.open());
  }

  async close(): Promise<void> {
    const lane = this.lane;
    this.lane = undefined;
    await lane?.end();
  }

  private open(): PgPool {
    const Pool = this.applicationPool.constructor as new (options: Record<string, unknown>) => PgPool;
    const lane = new Pool({ ...this.applicationPool.options, max: this.connections, application_name: 'nestjs-idempotency lease lane' });
    // An idle connection that breaks (server restart) must not crash the process.
    lane.on('error', () => undefined);
    lane.on('connect', (client: { on(event: 'error', listener: () => void): void }) => client.on('error', () => undefined));
    return lane;
  }
}
