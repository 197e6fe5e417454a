import { parseArgs } from 'node:util';
import { SCENARIOS, WAIT_MEASUREMENTS, type Scenario, type WaitMeasurement } from './scenarios.js';

/** Settings of a run, from the command line. */
export interface BenchOptions {
  /** Measured seconds per scenario, split over the rounds. */
  duration: number;
  /** Rounds: each scenario is measured once per round, scenarios taking turns. */
  rounds: number;
  /** Unmeasured seconds of load before each measured window (2x before an app's first). */
  warmup: number;
  connections: number;
  /** Connections of the app's pool (TypeORM's, which the hand-rolled scenario shares). */
  pool: number;
  scenarios: Scenario[];
  /** The wait measurements selected (by name in `--scenarios`), run after the scenarios. */
  waits: WaitMeasurement[];
  /** Measured rounds of each wait measurement (each: one original, `WAIT_DUPLICATES` duplicates). */
  waitRounds: number;
  /** Profile the app during each measured window. */
  cpuProf: boolean;
  /** Also print the JSON document. */
  json: boolean;
  /** Directory of the JSON (and profiles). */
  out: string;
  /**
   * The throwaway PostgreSQL with `fsync` (and full-page writes) on: every
   * commit waits for its WAL flush, as in production. Off by default, which
   * measures CPU rather than the disk. The report's header says which.
   */
  durable: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]

  --duration <s>       measured seconds per scenario, split over the rounds (default 9)
  --rounds <n>         scenarios take turns, each measured once per round (default 3),
                       so that a change in the machine's load hits all of them alike
  --warmup <s>         unmeasured seconds of load before each measured window (default 1;
                       2x that before an app's first window)
  --connections <n>    concurrent HTTP connections (default 16)
  --pool <n>           database pool size of the app (default 10)
  --scenarios <list>   comma-separated subset of: ${SCENARIOS.map((s) => s.name).join(', ')};
                       and of the wait measurements, run after them: ${WAIT_MEASUREMENTS.map((w) => w.name).join(', ')}
                       (default: all)
  --wait-rounds <n>    measured rounds of each wait measurement (default 20): per round one
                       original held in flight, 50 duplicates waiting for it; reports when each
                       duplicate's response arrives after the original's (p50/p99 ms)
  --cpu-prof           write a .cpuprofile of the app per scenario and print its top frames
  --json               also print the JSON document
  --out <dir>          where to write results (default bench-results)
  --durable            the throwaway PostgreSQL with fsync and full-page writes on: every
                       commit waits for the disk, as in production (default: fsync off,
                       which measures CPU rather than the disk); the report's header says
                       which, and the goals must hold both ways (two runs)

PostgreSQL: DATABASE_URL when set, else a throwaway server like the tests'.
Redis (the redis-* scenarios and wait-redis): REDIS_URL when set, else redis://127.0.0.1:6379;
when it does not answer, they are skipped with one line saying why.
MariaDB (the mariadb-* scenarios): MYSQL_URL when set, else mysql://root@127.0.0.1:3306
(a database per app, dropped at the end); skipped the same way when it does not answer.
DynamoDB (the dynamodb-* scenarios): a dynalite server (npm, in memory) started for the run
in a process of its own, a table per app; dynalite has no ReturnValuesOnConditionCheckFailure,
so a replay costs the store's fallback (PutItem + GetItem; 1 call on DynamoDB).
The peer-* scenarios run the peer library @node-idempotency/nestjs (a devDependency; its
Redis rows use the Redis above); skipped the same way when it does not load.`;

export function parseOptions(args: string[]): BenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: 'string', default: '9' },
      rounds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      connections: { type: 'string', default: '16' },
      pool: { type: 'string', default: '10' },
      scenarios: { type: 'string', default: [...SCENARIOS, ...WAIT_MEASUREMENTS].map((s) => s.name).join(',') },
      'wait-rounds': { type: 'string', default: '20' },
      'cpu-prof': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench-results' },
      durable: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const names = values.scenarios.split(',').map((name) => name.trim());
  const unknown = names.find((name) => ![...SCENARIOS, ...WAIT_MEASUREMENTS].some((s) => s.name === name));
  if (unknown !== undefined) throw new Error(`Unknown scenario "${unknown}".\n\n${USAGE}`);
  return {
    duration: positive('duration', values.duration),
    rounds: Math.ceil(positive('rounds', values.rounds)),
    warmup: positive('warmup', values.warmup, true),
    connections: positive('connections', values.connections),
    pool: positive('pool', values.pool),
    scenarios: pick(SCENARIOS, names),
    waits: pick(WAIT_MEASUREMENTS, names),
    waitRounds: Math.ceil(positive('wait-rounds', values['wait-rounds'])),
    cpuProf: values['cpu-prof'],
    json: values.json,
    out: values.out,
    durable: values.durable,
  };
}

/** The entries of `all` named in `names`, in the order of `names`. */
function pick<T extends { name: string }>(all: T[], names: string[]): T[] {
  return names.flatMap((name) => all.filter((entry) => entry.name === name));
}

function positive(name: string, raw: string, zeroAllowed = false): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !zeroAllowed)) {
    throw new Error(`--${name} must be a ${zeroAllowed ? 'non-negative' : 'positive'} number, got "${raw}".\n\n${USAGE}`);
  }
  return value;
}
