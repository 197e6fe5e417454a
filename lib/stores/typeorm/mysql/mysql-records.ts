import { IdempotencyConfigurationError } from '../../../errors/idempotency-configuration.error.js';
import type { ClaimRequest, ClaimResult, IdempotencyRecordId, StoredResponse } from '../../../interfaces/idempotency-store.interface.js';
import type { SqlRecords, SqlRecordsContext } from '../sql-records.js';

/** PLACEHOLDER: the Mysql dialect (being written). */
export class MysqlRecords implements SqlRecords {
  constructor(private readonly context: SqlRecordsContext) {}
  claim(_request: ClaimRequest): Promise<ClaimResult> {
    return this.todo();
  }
  complete(_id: IdempotencyRecordId, _token: string, _response: StoredResponse, _ttl: number): Promise<boolean> {
    return this.todo();
  }
  release(_id: IdempotencyRecordId, _token: string): Promise<boolean> {
    return this.todo();
  }
  extendLease(_id: IdempotencyRecordId, _token: string, _lockTimeout: number): Promise<boolean> {
    return this.todo();
  }
  purgeExpired(_limit: number): Promise<number> {
    return this.todo();
  }
  verify(): Promise<void> {
    return this.todo();
  }
  async close(): Promise<void> {}
  private async todo(): Promise<never> {
    throw new IdempotencyConfigurationError(`mysql not implemented yet (${this.context.table})`);
  }
}
