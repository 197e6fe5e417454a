import type { OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { IdempotencyConfigurationError } from '../../errors/idempotency-configuration.error.js';
import type {
  ClaimRequest,
  ClaimResult,
  IdempotencyRecordId,
  IdempotencyStore,
  StoredResponse,
} from '../../interfaces/idempotency-store.interface.js';
import { IDEMPOTENCY_RECORDS_TABLE, IdempotencyRecord } from './idempotency-record.entity.js';
import { LeaseLane, type PgPool } from './lease-lane.js';
import { retryingConflicts } from './postgres-errors.js';
import { buildStatements, type Statement, type Statements } from './typeorm-idempotency.statements.js';

/** Options of {@link TypeOrmIdempotencyStore}. */
export interface TypeOrmIdempotencyStoreOptions {
  /**
   * Table name, schema-qualified if needed. Default: where the DataSource
   * keeps the `IdempotencyRecord` entity, else `idempotency_records` in the
   * DataSource's `schema`.
   */
  table?: string;
  /**
   * Send the statements as named prepared statements, so PostgreSQL parses
   * and plans each once per connection instead of on every request (about
   * half its CPU per claim). Default `true`. Set `false` behind a pooler that
   * cannot keep prepared statements (PgBouncer in transaction mode before
   * 1.21, or without `max_prepared_statements`).
   */
  preparedStatements?: boolean;
  /**
   * Connections of the store's own small pool (its "lease lane") for lease
   * renewals, completions and releases, so they never wait behind the
   * application's queries in the DataSource's pool. Default 4.
   */
  leaseConnections?: number;
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
 * {@link IdempotencyStore} on a TypeORM DataSource (PostgreSQL). Every method
 * is a single SQL statement, so a first execution costs two round trips
 * (claim, complete) and a replay one. Claims go to the DataSource's pg pool;
 * lease renewals, completions and releases go to a small pool of the store's
 * own (same connection settings), so a busy application pool cannot make a
 * live request lose its lease. Statements bypass TypeORM's query runner (its
 * query logging does not show them). Time is the database's `now()`, so
 * instances with skewed clocks agree on leases and expiry. Serialization
 * failures and deadlocks are retried; connection failures are thrown as
 * `IdempotencyStoreConnectionError`.
 */
export class TypeOrmIdempotencyStore implements IdempotencyStore, OnApplicationShutdown {
  private readonly prepared: boolean;
  private connected?: { pool: PgPool; lane: LeaseLane; statements: Statements };

  /**
   * @param dataSource a PostgreSQL DataSource, or a function that returns it
   *   (called on first use, for a DataSource that is not initialized yet).
   */
  constructor(
    private readonly dataSource: DataSource | (() => DataSource),
    private readonly options: TypeOrmIdempotencyStoreOptions = {},
  ) {
    this.prepared = options.preparedStatements ?? true;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { scope, principal, key, fingerprint, token, lockTimeout } = request;
    const { pool, statements } = this.connect();
    const values = [scope, principal, key, fingerprint, token, lockTimeout];
    const { rows } = await retryingConflicts(() => this.run(pool, statements.claim, values));
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
    const values = [...idValues(id), token, response.status, JSON.stringify(response.headers), response.body, ttl];
    return (await this.onLane('complete', values)) === 1;
  }

  async release(id: IdempotencyRecordId, token: string): Promise<boolean> {
    return (await this.onLane('release', [...idValues(id), token])) === 1;
  }

  async extendLease(id: IdempotencyRecordId, token: string, lockTimeout: number): Promise<boolean> {
    return (await this.onLane('extendLease', [...idValues(id), token, lockTimeout])) === 1;
  }

  async purgeExpired(limit: number): Promise<number> {
    const { pool, statements } = this.connect();
    return (await retryingConflicts(() => this.run(pool, statements.purgeExpired, [limit]))).rowCount ?? 0;
  }

  /**
   * Checks at startup that the DataSource is PostgreSQL and the table exists
   * (unless the DataSource is not initialized yet).
   * @throws IdempotencyConfigurationError naming the fix.
   */
  async verify(): Promise<void> {
    if (!this.getDataSource().isInitialized) return; // initialized later by the app (manualInitialization): checked on first use
    const { pool, statements } = this.connect();
    const { rows } = await pool.query({ text: 'SELECT to_regclass($1) IS NOT NULL AS present', values: [statements.table] });
    if (!(rows[0] as { present: boolean }).present) {
      throw new IdempotencyConfigurationError(
        `The idempotency table ${statements.table} does not exist. Create it with the CreateIdempotencyRecords migration ` +
          '(migrations: [CreateIdempotencyRecords], migrationsRun: true), or let TypeORM build it: entities: [IdempotencyRecord] ' +
          '(or autoLoadEntities: true) with synchronize: true.',
      );
    }
  }

  /** Closes the store's own pool (the DataSource's pool is the application's to close). */
  async onApplicationShutdown(): Promise<void> {
    await this.connected?.lane.close();
  }

  private async onLane(operation: 'complete' | 'release' | 'extendLease', values: unknown[]): Promise<number> {
    const { lane, statements } = this.connect();
    return (await retryingConflicts(() => this.run(lane.pool, statements[operation], values))).rowCount ?? 0;
  }

  /** One statement on a pooled connection: one round trip. */
  private run(pool: PgPool, statement: Statement, values: unknown[]) {
    const { name, text } = statement;
    return pool.query(this.prepared ? { name, text, values } : { text, values });
  }

  private getDataSource(): DataSource {
    return typeof this.dataSource === 'function' ? this.dataSource() : this.dataSource;
  }

  private connect(): NonNullable<TypeOrmIdempotencyStore['connected']> {
    if (this.connected) return this.connected;
    const dataSource = this.getDataSource();
    const pool = (dataSource.driver as unknown as { master?: PgPool }).master;
    if (dataSource.options.type !== 'postgres') {
      throw new IdempotencyConfigurationError(
        `TypeOrmIdempotencyStore supports PostgreSQL DataSources only (got type "${dataSource.options.type}"). ` +
          'Pass another `store` to IdempotencyModule.forRoot(), e.g. new InMemoryIdempotencyStore() for a single process.',
      );
    }
    if (!pool) throw new IdempotencyConfigurationError('TypeOrmIdempotencyStore needs an initialized DataSource.');
    const statements = buildStatements(this.options.table ?? tableOf(dataSource));
    return (this.connected = { pool, lane: new LeaseLane(pool, this.options.leaseConnections ?? 4), statements });
  }
}

/** Where the DataSource keeps the record entity, else the default table in its schema. */
function tableOf(dataSource: DataSource): string {
  if (dataSource.hasMetadata(IdempotencyRecord)) return dataSource.getMetadata(IdempotencyRecord).tablePath;
  const schema = (dataSource.options as { schema?: string }).schema;
  return schema ? `${schema}.${IDEMPOTENCY_RECORDS_TABLE}` : IDEMPOTENCY_RECORDS_TABLE;
}

function idValues(id: IdempotencyRecordId): string[] {
  return [id.scope, id.principal, id.key];
}
