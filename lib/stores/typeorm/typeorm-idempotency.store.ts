import type { DataSource } from 'typeorm';
import type {
  ClaimRequest,
  ClaimResult,
  IdempotencyRecordId,
  IdempotencyStore,
  StoredResponse,
} from '../../interfaces/idempotency-store.interface.js';
import { IDEMPOTENCY_RECORDS_TABLE } from './idempotency-record.entity.js';
import { buildStatements, type Statement, type Statements } from './typeorm-idempotency.statements.js';

/** Options of {@link TypeOrmIdempotencyStore}. */
export interface TypeOrmIdempotencyStoreOptions {
  /** Table name, schema-qualified if needed. Default `idempotency_records`. */
  table?: string;
  /**
   * Send the statements as named prepared statements, so PostgreSQL parses
   * and plans each once per connection instead of on every request (about
   * half its CPU per claim). Default `true`. Set `false` behind a pooler that
   * cannot keep prepared statements (PgBouncer in transaction mode before
   * 1.21, or without `max_prepared_statements`).
   */
  preparedStatements?: boolean;
}

/** The part of pg's `Pool` this store uses: TypeORM's PostgreSQL driver keeps it as `master`. */
interface PgPool {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: never[]; rowCount: number | null }>;
}

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
 * {@link IdempotencyStore} on the connection pool of a TypeORM DataSource
 * (PostgreSQL). Every method is a single SQL statement, so a first execution
 * costs two round trips (claim, complete) and a replay one. The statements go
 * to pg's pool directly, not through TypeORM's query runner (so TypeORM's
 * query logging does not show them). Time is the database's `now()`, so
 * instances with skewed clocks agree on leases and expiry.
 */
export class TypeOrmIdempotencyStore implements IdempotencyStore {
  private readonly statements: Statements;
  private readonly prepared: boolean;
  private pool?: PgPool;

  /**
   * @param dataSource a PostgreSQL DataSource, or a function that returns it
   *   (called on first use, for a DataSource that is not initialized yet).
   */
  constructor(
    private readonly dataSource: DataSource | (() => DataSource),
    options: TypeOrmIdempotencyStoreOptions = {},
  ) {
    this.statements = buildStatements(options.table ?? IDEMPOTENCY_RECORDS_TABLE);
    this.prepared = options.preparedStatements ?? true;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { scope, principal, key, fingerprint, token, lockTimeout } = request;
    const { rows } = await this.run(this.statements.claim, [scope, principal, key, fingerprint, token, lockTimeout]);
    const row: ClaimRow = rows[0];
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
    const values = [...this.idValues(id), token, response.status, JSON.stringify(response.headers), response.body, ttl];
    return (await this.affected(this.statements.complete, values)) === 1;
  }

  async release(id: IdempotencyRecordId, token: string): Promise<boolean> {
    return (await this.affected(this.statements.release, [...this.idValues(id), token])) === 1;
  }

  async extendLease(id: IdempotencyRecordId, token: string, lockTimeout: number): Promise<boolean> {
    return (await this.affected(this.statements.extendLease, [...this.idValues(id), token, lockTimeout])) === 1;
  }

  async purgeExpired(limit: number): Promise<number> {
    return this.affected(this.statements.purgeExpired, [limit]);
  }

  private idValues(id: IdempotencyRecordId): string[] {
    return [id.scope, id.principal, id.key];
  }

  private async affected(statement: Statement, values: unknown[]): Promise<number> {
    return (await this.run(statement, values)).rowCount ?? 0;
  }

  /** One statement on a pooled connection: one round trip. */
  private run(statement: Statement, values: unknown[]) {
    const { name, text } = statement;
    return this.getPool().query(this.prepared ? { name, text, values } : { text, values });
  }

  private getPool(): PgPool {
    if (this.pool) return this.pool;
    const dataSource = typeof this.dataSource === 'function' ? this.dataSource() : this.dataSource;
    const pool = (dataSource.driver as unknown as { master?: PgPool }).master;
    if (dataSource.options.type !== 'postgres' || !pool) {
      throw new Error(
        `TypeOrmIdempotencyStore needs an initialized PostgreSQL DataSource (got type "${dataSource.options.type}"` +
          `${pool ? '' : ', not initialized'}). Pass another \`store\` for other databases.`,
      );
    }
    return (this.pool = pool);
  }
}
