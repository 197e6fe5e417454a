import type { DataSource } from 'typeorm';
import type {
  ClaimRequest,
  ClaimResult,
  IdempotencyRecordId,
  IdempotencyStore,
  StoredResponse,
} from '../../interfaces/idempotency-store.interface.js';
import { IDEMPOTENCY_RECORDS_TABLE } from './idempotency-record.entity.js';
import { buildStatements, type Statements } from './typeorm-idempotency.statements.js';

interface ClaimRow {
  claimed: boolean;
  fingerprint: string | null;
  status: 'processing' | 'completed' | null;
  expires_in_ms: number | null;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: Buffer | null;
}

/**
 * {@link IdempotencyStore} on a TypeORM DataSource (PostgreSQL). Every
 * method is a single SQL statement, so a first execution costs two round
 * trips (claim, complete) and a replay one. Time is the database's `now()`,
 * so instances with skewed clocks agree on leases and expiry.
 */
export class TypeOrmIdempotencyStore implements IdempotencyStore {
  private readonly sql: Statements;
  private dataSource?: DataSource;

  /**
   * @param dataSource a PostgreSQL DataSource, or a function that returns it
   *   (called on first use, for a DataSource that is not initialized yet).
   * @param table table name, schema-qualified if needed. Default `idempotency_records`.
   */
  constructor(
    private readonly source: DataSource | (() => DataSource),
    table = IDEMPOTENCY_RECORDS_TABLE,
  ) {
    this.sql = buildStatements(table);
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { scope, principal, key, fingerprint, token, lockTimeout } = request;
    const [row] = await this.query<ClaimRow>(this.sql.claim, [scope, principal, key, fingerprint, token, lockTimeout]);
    if (row.claimed) return { claimed: true };
    if (row.status === null) return { claimed: false, existing: null };
    return {
      claimed: false,
      existing: {
        fingerprint: row.fingerprint ?? '',
        status: row.status,
        expiresInMs: Number(row.expires_in_ms),
        response:
          row.response_status === null
            ? null
            : { status: row.response_status, headers: row.response_headers ?? {}, body: row.response_body },
      },
    };
  }

  async complete(id: IdempotencyRecordId, token: string, response: StoredResponse, ttl: number): Promise<boolean> {
    const params = [...this.idParams(id), token, response.status, JSON.stringify(response.headers), response.body, ttl];
    return (await this.affected(this.sql.complete, params)) === 1;
  }

  async release(id: IdempotencyRecordId, token: string): Promise<boolean> {
    return (await this.affected(this.sql.release, [...this.idParams(id), token])) === 1;
  }

  async extendLease(id: IdempotencyRecordId, token: string, lockTimeout: number): Promise<boolean> {
    return (await this.affected(this.sql.extendLease, [...this.idParams(id), token, lockTimeout])) === 1;
  }

  async purgeExpired(limit: number): Promise<number> {
    return this.affected(this.sql.purgeExpired, [limit]);
  }

  private idParams(id: IdempotencyRecordId): string[] {
    return [id.scope, id.principal, id.key];
  }

  private async query<T>(sql: string, params: unknown[]): Promise<T[]> {
    return (await this.run(sql, params)).records as T[];
  }

  private async affected(sql: string, params: unknown[]): Promise<number> {
    return (await this.run(sql, params)).affected ?? 0;
  }

  /** One statement on a pooled connection: one round trip. */
  private async run(sql: string, params: unknown[]) {
    this.dataSource ??= typeof this.source === 'function' ? this.source() : this.source;
    const runner = this.dataSource.createQueryRunner();
    try {
      return await runner.query(sql, params, true);
    } finally {
      await runner.release();
    }
  }
}
