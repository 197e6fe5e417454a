import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { IdempotencyConfigurationError } from '../../errors/idempotency-configuration.error.js';

/** The parts of a TypeORM query runner whose transaction state an atomic transaction keeps true. */
type RunnerState = Omit<QueryRunner, 'isTransactionActive'> & {
  isTransactionActive: boolean;
  transactionDepth: number;
  broadcaster?: { broadcast(event: string): Promise<void> };
};

/**
 * The TypeORM query runner an atomic transaction runs on: a new one on the
 * master of the DataSource, or the one of the caller's transaction it joins.
 * While a transaction of its own is open, the runner's state says so
 * (`isTransactionActive`, depth 1), as its own `startTransaction()` would: the
 * operation's `manager.transaction()` then nests in a savepoint, and the
 * DataSource's subscribers hear the transaction events. A joined runner is
 * the caller's: left as it is, never released.
 */
export class TransactionRunner {
  private constructor(
    private readonly runner: RunnerState,
    /** Joined the caller's transaction. */
    readonly joined: boolean,
  ) {}

  /**
   * A new runner on the master of `dataSource`, or, to join, the one of
   * `join`: the `EntityManager` of a transaction in progress on a DataSource
   * of one of `types` (the store's database).
   * @throws IdempotencyConfigurationError for a `join` that is neither.
   */
  static of(dataSource: DataSource, join: unknown, types: string[]): TransactionRunner {
    if (join === undefined) return new TransactionRunner(dataSource.createQueryRunner('master') as RunnerState, false);
    const manager = join as EntityManager | null;
    const runner = manager?.queryRunner as RunnerState | undefined;
    if (!runner?.isTransactionActive) {
      throw new IdempotencyConfigurationError(
        'execute(): `manager` must be the EntityManager of a transaction in progress, e.g. inside dataSource.transaction(async (manager) => ...).',
      );
    }
    const type = manager?.connection?.options.type;
    if (!types.includes(String(type))) {
      throw new IdempotencyConfigurationError(
        `execute(): \`manager\` is of a ${type} DataSource, but the idempotency records are on ${types.join('/')}: ` +
          'pass the EntityManager of a transaction on the database of the idempotency store.',
      );
    }
    return new TransactionRunner(runner, true);
  }

  get manager(): EntityManager {
    return this.runner.manager;
  }

  /** The driver's connection of the runner (taken from the pool on first call). */
  connect(): Promise<unknown> {
    return this.runner.connect();
  }

  /** Marks a transaction of its own begun. */
  async began(): Promise<void> {
    if (this.joined) return;
    this.runner.isTransactionActive = true;
    this.runner.transactionDepth = 1;
    await this.broadcast('AfterTransactionStart');
  }

  /** Marks a transaction of its own ended (`event` heard by subscribers) and gives the connection back to the pool. */
  async ended(event?: string): Promise<void> {
    if (this.joined) return;
    this.runner.isTransactionActive = false;
    this.runner.transactionDepth = 0;
    if (event) await this.broadcast(event);
    await this.runner.release();
  }

  /** Gives back the connection of a runner whose transaction never began. */
  async release(): Promise<void> {
    if (!this.joined) await this.runner.release();
  }

  /** One of TypeORM's transaction events, for the DataSource's subscribers (not for a joined transaction). */
  async broadcast(event: string): Promise<void> {
    if (!this.joined) await this.runner.broadcaster?.broadcast(event);
  }
}
