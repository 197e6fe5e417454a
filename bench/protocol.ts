/** The messages the orchestrator and the app under test exchange over IPC. */

/**
 * Which `POST /orders` the app serves: `library` with the module's default
 * store (TypeORM on PostgreSQL), `library-redis` with `RedisIdempotencyStore`,
 * `library-dynamodb` with `DynamoDbIdempotencyStore` (on the run's dynalite),
 * `library-mariadb` with the TypeORM store on a MariaDB DataSource,
 * `library-memory` with `InMemoryIdempotencyStore`; `library-atomic` under
 * `@Idempotent({ atomic: true })` on the default store, the insert in the
 * request's transaction; `library-wait` and `library-wait-redis` under
 * `@Idempotent({ wait })` on the default store or `RedisIdempotencyStore`,
 * the handler held for the rounds of the wait measurement (wait-latency.ts);
 * `peer-memory` and `peer-redis` under the peer library
 * `@node-idempotency/nestjs` with its in-memory and its Redis storage adapter.
 */
export type AppMode =
  | 'baseline'
  | 'hand-rolled'
  | 'library'
  | 'library-redis'
  | 'library-dynamodb'
  | 'library-mariadb'
  | 'library-memory'
  | 'library-atomic'
  | 'library-wait'
  | 'library-wait-redis'
  | 'peer-memory'
  | 'peer-redis';

/** Whether the app of `mode` keeps its records in Redis (and needs the server). */
export const usesRedisStore = (mode: AppMode): boolean => mode === 'library-redis' || mode === 'library-wait-redis' || mode === 'peer-redis';

/** The route of the wait measurement (`library-wait*`). */
export const WAIT_ROUTE = {
  /** How long a duplicate waits for the original in flight, in ms: far longer than a round lasts. */
  wait: 10_000,
  /** The handler's own work once the duplicates wait, in ms, before its insert. */
  handlerMs: 50,
} as const;

/** Whether the app of `mode` serves the wait measurement (wait-latency.ts). */
export const isWaitMode = (mode: AppMode): boolean => mode === 'library-wait' || mode === 'library-wait-redis';

/** What the app counted since it started. */
export interface AppStats {
  /**
   * Statements sent to PostgreSQL (calls of pg's `Client#query`), and in
   * `library-mariadb` to MariaDB too (calls of mysql2's `Connection#query` and `#execute`).
   */
  statements: number;
  /** Of those, the handler's own insert. */
  handlerStatements: number;
  /**
   * Commands sent to Redis by the app's ioredis client, or in `peer-redis` by
   * the peer's storage adapter (0 when the app has no Redis).
   */
  redisCommands: number;
  /** Calls the app's DynamoDB client sent in `library-dynamodb` (0 in the other modes). */
  dynamodbCalls: number;
  /** HTTP requests received on `/orders`. */
  requests: number;
  /** CPU time of the app process (user + system), in µs. */
  cpuMicros: number;
  /** Resident set size now, in bytes. */
  rss: number;
  /** Largest resident set size sampled since start, in bytes. */
  peakRss: number;
}

/**
 * Orchestrator → app. Every command but `stop` is answered with a {@link Reply}.
 * `reset` empties the app's in-process store (`library-memory`, `peer-memory`;
 * a no-op in the other modes), as a window starts from empty tables.
 * `wait-arm` starts a round of the wait measurement (`library-wait*` only):
 * the next original holds in its handler until `duplicates` requests wait for
 * it; `wait-entered` is answered once that original runs its handler.
 */
export type Command =
  | { type: 'stats' }
  | { type: 'reset' }
  | { type: 'wait-arm'; duplicates: number }
  | { type: 'wait-entered' }
  | { type: 'profile-start' }
  | { type: 'profile-stop'; file: string }
  | { type: 'stop' };

/** App → orchestrator. */
export type Reply = { type: 'ready'; port: number } | ({ type: 'stats' } & AppStats) | { type: 'done' };

/** Environment variables the orchestrator starts the app with. */
export const APP_ENV = {
  mode: 'BENCH_MODE',
  databaseUrl: 'BENCH_DATABASE_URL',
  poolSize: 'BENCH_POOL_SIZE',
  /** `library-redis`, `library-wait-redis` and `peer-redis` only: the Redis server. */
  redisUrl: 'BENCH_REDIS_URL',
  /** `library-redis`, `library-wait-redis` and `peer-redis` only: the key prefix of the app's store, its own in this run. */
  redisPrefix: 'BENCH_REDIS_PREFIX',
  /** `library-mariadb` only: the MariaDB database of the app's store, its own in this run. */
  mysqlUrl: 'BENCH_MYSQL_URL',
  /** `library-dynamodb` only: the run's dynalite endpoint. */
  dynamodbEndpoint: 'BENCH_DYNAMODB_ENDPOINT',
  /** `library-dynamodb` only: the table of the app's store, its own in this run. */
  dynamodbTable: 'BENCH_DYNAMODB_TABLE',
} as const;
