import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { IdempotencyConfigurationError } from '../../../errors/idempotency-configuration.error.js';

/** The parts of a TypeORM query runner whose transaction state an atomic transaction keeps true. */
export type TransactionRunner = Omit<QueryRunner, 'isTransactionActive'> & {
  isTransactionActive: boolean;
  transactionDepth: number;
  broadcaster?: { broadcast(event: string): Promise<void> };
};

/**
 * The query runner an atomic transaction runs on: a new one on the master of
 * `dataSource`, or, to join, the one of `join`: the `EntityManager` of a
 * transaction in progress on MySQL/MariaDB.
 * @throws IdempotencyConfigurationError for a `join` that is neither.
 */
export function transactionRunnerOf(dataSource: DataSource, join?: unknown): TransactionRunner {
  if (join === undefined) return dataSource.createQueryRunner('master') as TransactionRunner;
  const manager = join as EntityManager | null;
  const runner = manager?.queryRunner as TransactionRunner | undefined;
  if (!runner?.isTransactionActive) {
    throw new IdempotencyConfigurationError(
      'execute(): `manager` must be the EntityManager of a transaction in progress, e.g. inside dataSource.transaction(async (manager) => ...).',
    );
  }
  const type = manager?.connection?.options.type;
  if (type !== 'mysql' && type !== 'mariadb') {
    throw new IdempotencyConfigurationError(
      `execute(): \`manager\` is of a ${type} DataSource, but the idempotency records are on MySQL/MariaDB: ` +
        'pass the EntityManager of a transaction on the database of the idempotency store.',
    );
  }
  return runner;
}
