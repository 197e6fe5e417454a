/** Messages between a test and its worker processes (IPC, see worker/main.ts). */

/** Worker → test: the app listens on `port`. */
export interface ReadyMessage {
  type: 'ready';
  port: number;
}

/** Worker → test: a gated handler reached its barrier (header `X-Gate`) and waits. */
export interface ArrivedMessage {
  type: 'arrived';
  key: string;
}

/** Worker → test: a warning or error the app logged (the library's among them). */
export interface LogMessage {
  type: 'log';
  level: 'warn' | 'error';
  message: string;
}

/** Test → worker: lets the gated handler of `key` go on: return its response, or throw. */
export interface ReleaseMessage {
  type: 'release';
  key: string;
  action: 'return' | 'throw';
}

export type WorkerMessage = ReadyMessage | ArrivedMessage | LogMessage;

/** What every worker reads from its environment. */
export interface WorkerEnv {
  /** PostgreSQL URL shared by every worker of a test. */
  DATABASE_URL: string;
  /** Name of the worker in responses and side effects, e.g. `w1`. */
  WORKER_NAME: string;
  /** The module's `lockTimeout`, in ms. */
  LOCK_TIMEOUT_MS: string;
  /** The module's `sweepInterval`, in ms; unset: no sweeper. */
  SWEEP_INTERVAL_MS?: string;
  /** Size of the app's connection pool (the DataSource's `extra.max`); unset: pg's default (10). */
  POOL_MAX?: string;
  /**
   * How long an app query waits for a pooled connection before it fails
   * (`extra.connectionTimeoutMillis`), in ms; unset: TypeORM's default (no limit).
   */
  POOL_CONNECTION_TIMEOUT_MS?: string;
  /**
   * The idempotency store: `redis` for a `RedisIdempotencyStore` on `REDIS_URL`,
   * `mysql` for the TypeORM store on a MySQL/MariaDB DataSource at `MYSQL_URL`
   * (side effects stay in PostgreSQL); unset or `typeorm`: the default TypeORM store.
   */
  STORE?: 'typeorm' | 'redis' | 'mysql';
  /** Redis URL of the `redis` store, e.g. `redis://127.0.0.1:6379`. */
  REDIS_URL?: string;
  /** Key prefix of the `redis` store; unset: the store's default (`idempotency:`). */
  REDIS_PREFIX?: string;
  /** Database URL of the `mysql` store, e.g. `mysql://root@127.0.0.1:3306/test_1`; the table exists. */
  MYSQL_URL?: string;
}

/** Body of `GET /stats`: how often each handler ran in one process. */
export interface WorkerStats {
  worker: string;
  pid: number;
  /** Handler runs by route (`effects`, `fail-open`). */
  invocations: Record<string, number>;
  /** Handler runs by route, then by idempotency key. */
  invocationsByKey: Record<string, Record<string, number>>;
}

/** Body of every response of `POST /effects`: one execution of the handler. */
export interface EffectResponse {
  key: string;
  principal: string;
  worker: string;
  pid: number;
  /** Id of the execution's `effect` row in `side_effects`. */
  effect: number;
  nonce: string;
}
