export * from './idempotency.constants.js';
export { IdempotencyModule } from './idempotency.module.js';
export type { IdempotencyModuleExtras } from './idempotency.module-definition.js';
export { IdempotencyService, type AtomicExecuteOptions, type ExecuteOptions } from './idempotency.service.js';
export type { ForgetOptions, IdempotencyRecordInfo, RecordLocator } from './operator/operator-options.interface.js';
export { IdempotencySweeper, SWEEPER_SCOPE } from './idempotency.sweeper.js';
export { Idempotent } from './decorators/idempotent.decorator.js';
export { SkipIdempotency } from './decorators/skip-idempotency.decorator.js';
export { TransactionManager } from './decorators/transaction-manager.decorator.js';
export { IdempotencyInterceptor } from './interceptors/idempotency.interceptor.js';
export type {
  IdempotencyModuleOptions,
  IdempotentOptions,
  TransactionContext,
} from './interfaces/idempotency-module-options.interface.js';
export * from './interfaces/idempotency-store.interface.js';
export type {
  IdempotencyEvent,
  IdempotencyEventListener,
  IdempotencyEventType,
  IdempotencyTransport,
} from './observability/idempotency-event.js';
export * from './exceptions/idempotency.exception.js';
export * from './exceptions/idempotency-key-missing.exception.js';
export * from './exceptions/invalid-idempotency-key.exception.js';
export * from './exceptions/idempotency-key-in-flight.exception.js';
export * from './exceptions/idempotency-key-reused.exception.js';
export * from './exceptions/idempotent-response-not-stored.exception.js';
export * from './exceptions/idempotency-store-unavailable.exception.js';
export * from './exceptions/request-not-fingerprintable.exception.js';
export * from './exceptions/principal-unresolved.exception.js';
export * from './exceptions/body-not-fingerprintable.exception.js';
export * from './exceptions/transaction-not-committed.exception.js';
export { IdempotencyStoreConnectionError } from './errors/idempotency-store-connection.error.js';
export { IdempotencyConfigurationError } from './errors/idempotency-configuration.error.js';
export { InMemoryIdempotencyStore, type InMemoryIdempotencyStoreOptions } from './stores/in-memory.store.js';
export {
  TypeOrmIdempotencyStore,
  type TypeOrmIdempotencyStoreOptions,
} from './stores/typeorm/typeorm-idempotency.store.js';
export { IDEMPOTENCY_RECORDS_TABLE } from './stores/typeorm/sql-records.js';
export { IdempotencyRecord } from './stores/typeorm/postgres/idempotency-record.entity.js';
export { MysqlIdempotencyRecord } from './stores/typeorm/mysql/mysql-idempotency-record.entity.js';
export { SqliteIdempotencyRecord } from './stores/typeorm/sqlite/sqlite-idempotency-record.entity.js';
export { CreateIdempotencyRecords } from './stores/typeorm/create-idempotency-records.migration.js';
