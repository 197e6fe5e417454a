import pg from 'pg';
import { DataSource } from 'typeorm';
import { IDEMPOTENCY_RECORDS_TABLE, IdempotencyRecord } from '../../../lib/index.js';

/** The side effects every handler execution writes (worker/effects.controller.ts). */
const SIDE_EFFECTS_DDL = `
  CREATE TABLE IF NOT EXISTS side_effects (
    id bigserial PRIMARY KEY,
    phase text NOT NULL CHECK (phase IN ('entered', 'effect')),
    key text NOT NULL,
    principal text NOT NULL,
    worker text NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
  )`;

/** A value of PostgreSQL's `default_transaction_isolation`. */
export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

/** A stored record as the tests inspect it. */
export interface RecordRow {
  status: 'processing' | 'completed';
  token: string;
  fingerprint: string;
  lease_alive: boolean;
  /** How long after its claim the lease ends: more than `lockTimeout` once a heartbeat extended it. */
  lease_ms_after_claim: number | null;
  response_body: Buffer | null;
}

/**
 * The tests' view of the database the instances share: creates the schema
 * (as a deployment's migration would, before instances start) and answers
 * questions about side effects and records. Its pool survives a server
 * restart: a broken connection is replaced on the next query.
 */
export class SharedDatabase {
  private constructor(private readonly pool: pg.Pool) {}

  /**
   * @param options.defaultIsolation sets the database's `default_transaction_isolation`
   *   (`ALTER DATABASE`), as a DBA may have; sessions opened afterwards (the instances') use it.
   */
  static async prepare(url: string, options: { defaultIsolation?: IsolationLevel } = {}): Promise<SharedDatabase> {
    const schema = new DataSource({ type: 'postgres', url, entities: [IdempotencyRecord], synchronize: true });
    await schema.initialize();
    await schema.query(SIDE_EFFECTS_DDL);
    if (options.defaultIsolation) {
      const [{ name }] = await schema.query('SELECT current_database() AS name');
      await schema.query(
        `ALTER DATABASE ${pg.escapeIdentifier(name)} SET default_transaction_isolation = ${pg.escapeLiteral(options.defaultIsolation)}`,
      );
    }
    await schema.destroy();
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on('error', () => undefined); // idle connections die with the server in the outage test
    return new SharedDatabase(pool);
  }

  query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.pool.query<T>(sql, params).then((result) => result.rows);
  }

  /** How many rows of `phase` each key (of `principal`, when given) has. */
  async countByKey(phase: 'entered' | 'effect', keys: string[], principal?: string): Promise<Map<string, number>> {
    const rows = await this.query<{ key: string; n: number }>(
      `SELECT key, count(*)::int AS n FROM side_effects
       WHERE phase = $1 AND key = ANY($2) AND ($3::text IS NULL OR principal = $3)
       GROUP BY key`,
      [phase, keys, principal ?? null],
    );
    const counts = new Map(keys.map((key) => [key, 0]));
    for (const row of rows) counts.set(row.key, row.n);
    return counts;
  }

  /** The ids of the `phase` rows of each key (every principal), in order; `[]` for a key without any. */
  async idsByKey(phase: 'entered' | 'effect', keys: string[]): Promise<Map<string, number[]>> {
    const rows = await this.query<{ key: string; ids: string[] }>(
      `SELECT key, array_agg(id ORDER BY id)::text[] AS ids FROM side_effects
       WHERE phase = $1 AND key = ANY($2) GROUP BY key`,
      [phase, keys],
    );
    const ids = new Map(keys.map((key) => [key, [] as number[]]));
    for (const row of rows) ids.set(row.key, row.ids.map(Number));
    return ids;
  }

  async count(phase: 'entered' | 'effect', key: string): Promise<number> {
    return (await this.countByKey(phase, [key])).get(key)!;
  }

  /** The record of `key` (any scope/principal narrowed by `principal`), or `undefined`. */
  async record(key: string, principal = ''): Promise<RecordRow | undefined> {
    const [row] = await this.query<RecordRow>(
      `SELECT status, token, fingerprint, response_body, locked_until > now() AS lease_alive,
              extract(epoch FROM locked_until - created_at)::float8 * 1000 AS lease_ms_after_claim
       FROM ${IDEMPOTENCY_RECORDS_TABLE} WHERE scope = 'effects' AND principal = $1 AND key = $2`,
      [principal, key],
    );
    return row;
  }

  /**
   * Ends the lease of the `processing` record of `key` now, as if its owner had
   * stalled past `lockTimeout`: the next claim takes it over.
   */
  async endLease(key: string): Promise<void> {
    await this.query(
      `UPDATE ${IDEMPOTENCY_RECORDS_TABLE}
       SET locked_until = now() - interval '1 millisecond', expires_at = now() - interval '1 millisecond'
       WHERE scope = 'effects' AND key = $1 AND status = 'processing'`,
      [key],
    );
  }

  /**
   * Records still `processing` (of `keys`, when given), and whether their
   * lease still runs. Once traffic has ended, a live one is a stuck key.
   */
  async processing(keys?: string[]): Promise<{ key: string; lease_alive: boolean }[]> {
    return this.query(
      `SELECT key, locked_until > now() AS lease_alive FROM ${IDEMPOTENCY_RECORDS_TABLE}
       WHERE status = 'processing' AND ($1::text[] IS NULL OR key = ANY($1)) ORDER BY key`,
      [keys ?? null],
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
