import { ORDER_BODY } from './load.js';
import { usesRedisStore, type AppMode } from './protocol.js';

/** What a scenario sets up and how it picks the key of each request. */
export interface Scenario {
  name: string;
  /** Which `POST /orders` the app serves. */
  mode: AppMode;
  summary: string;
  /** Runs before the warm-up, e.g. completes the keys that a replay repeats. */
  prepare?: (port: number) => Promise<void>;
  /** A fresh key source for the warm-up and the measured run. */
  keys: (connections: number) => () => string;
}

/** How many completed keys each `*-replay` scenario cycles through. */
const REPLAY_KEYS = 1000;

/**
 * A wait measurement (wait-latency.ts): rounds of one original held in flight
 * and duplicates waiting for it, on the app of `mode`.
 */
export interface WaitMeasurement {
  name: string;
  mode: AppMode;
  summary: string;
}

/** What the app of a scenario or a wait measurement needs. */
type Measured = Pick<Scenario, 'name' | 'mode'>;

/** Whether the app of `measured` needs Redis (the `redis-*`, `peer-redis-*` and `wait-redis` rows). */
export const usesRedis = (measured: Measured): boolean => usesRedisStore(measured.mode);

/** Whether the app of `measured` needs MariaDB (the `mariadb-*` rows). */
export const usesMariadb = (measured: Measured): boolean => measured.mode === 'library-mariadb';

/** Whether the app of `measured` needs the run's dynalite (the `dynamodb-*` rows). */
export const usesDynamodb = (measured: Measured): boolean => measured.mode === 'library-dynamodb';

/** Whether the app of `measured` runs the peer library `@node-idempotency/nestjs` (the `peer-*` rows). */
export const usesPeer = (measured: Measured): boolean => measured.mode.startsWith('peer-');

const newKeyEach = (prefix: string) => () => {
  let n = 0;
  return () => `${prefix}-${n++}`;
};

/** Every scenario, in the order of the first round (later rounds rotate it). */
export const SCENARIOS: Scenario[] = [
  { name: 'baseline', mode: 'baseline', summary: 'the handler without idempotency', keys: newKeyEach('baseline') },
  {
    name: 'hand-rolled',
    mode: 'hand-rolled',
    summary: 'the handler with its own raw-SQL idempotency (1 claim + 1 complete)',
    keys: newKeyEach('hand-rolled'),
  },
  ...firstAndReplay('library', 'library', '@Idempotent()', { first: 'first', replay: 'replay' }),
  {
    name: 'library-conflict',
    mode: 'library',
    summary: '@Idempotent(), all connections on one key at a time, a new key every N requests (N = connections)',
    keys: (connections) => {
      let n = 0;
      return () => `conflict-${Math.floor(n++ / connections)}`;
    },
  },
  ...firstAndReplay(
    'atomic',
    'library-atomic',
    '@Idempotent({ atomic: true }), the insert through @TransactionManager() (claim, insert, completion: one transaction)',
  ),
  ...firstAndReplay('redis', 'library-redis', '@Idempotent() on RedisIdempotencyStore'),
  ...firstAndReplay('mariadb', 'library-mariadb', '@Idempotent() on TypeOrmIdempotencyStore on MariaDB'),
  ...firstAndReplay('dynamodb', 'library-dynamodb', '@Idempotent() on DynamoDbIdempotencyStore on dynalite (a replay: PutItem + GetItem)'),
  ...firstAndReplay('memory', 'library-memory', '@Idempotent() on InMemoryIdempotencyStore'),
  ...firstAndReplay('peer-memory', 'peer-memory', '@node-idempotency/nestjs on its in-memory storage'),
  ...firstAndReplay('peer-redis', 'peer-redis', '@node-idempotency/nestjs on its Redis storage'),
];

/** The wait measurements, run after the scenarios: selected with `--scenarios` too. */
export const WAIT_MEASUREMENTS: WaitMeasurement[] = [
  { name: 'wait-postgres', mode: 'library-wait', summary: '@Idempotent({ wait }) on the TypeORM store (PostgreSQL LISTEN/NOTIFY)' },
  { name: 'wait-redis', mode: 'library-wait-redis', summary: '@Idempotent({ wait }) on RedisIdempotencyStore (pub/sub)' },
];

/**
 * `<name>-first` (a new key on every request) and `<name>-replay` (retries
 * of completed keys) on the app of `mode`; their keys are prefixed with the
 * scenario's name unless `keyPrefixes` says otherwise.
 */
function firstAndReplay(
  name: string,
  mode: AppMode,
  what: string,
  keyPrefixes = { first: `${name}-first`, replay: `${name}-replay` },
): Scenario[] {
  return [
    { name: `${name}-first`, mode, summary: `${what}, a new key on every request`, keys: newKeyEach(keyPrefixes.first) },
    {
      name: `${name}-replay`,
      mode,
      summary: `${what}, retries of ${REPLAY_KEYS} completed keys`,
      ...replayOf(keyPrefixes.replay),
    },
  ];
}

/** A replay scenario's keys: `<prefix>-0` … `<prefix>-<REPLAY_KEYS - 1>`, completed before the warm-up, then repeated in turn. */
function replayOf(prefix: string): Pick<Scenario, 'prepare' | 'keys'> {
  return {
    prepare: (port) => completeKeys(port, prefix, REPLAY_KEYS),
    keys: () => {
      let n = 0;
      return () => `${prefix}-${n++ % REPLAY_KEYS}`;
    },
  };
}

/**
 * Sends `<prefix>-0` … `<prefix>-<count - 1>` once each, 10 at a time; each
 * must answer 201 as a first execution (the window starts from no records).
 */
async function completeKeys(port: number, prefix: string, count: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const key = `${prefix}-${next++}`;
      const response = await fetch(`http://127.0.0.1:${port}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: ORDER_BODY,
      });
      await response.arrayBuffer();
      const replayed = response.headers.get('idempotent-replayed') === 'true';
      if (response.status !== 201 || replayed) {
        throw new Error(`completing key ${key}: expected 201, got ${response.status}${replayed ? ' replayed' : ''}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
}
