import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Durability } from './database.js';
import { ratioTarget, type GoalResult } from './goals.js';
import type { Machine } from './machine.js';
import { markdownTable } from './markdown-table.js';
import type { ScenarioResult } from './metrics.js';
import { WAIT_ROUTE } from './protocol.js';
import type { WaitLatencyResult } from './wait-latency.js';

/** A ratio of requests/s (medians of the windows) between two scenarios of the same run, with its goal if any. */
export interface Ratio {
  name: string;
  value: number;
  /** From `GOALS` (goals.ts), when a goal sets one. */
  target?: number;
  met?: boolean;
}

/**
 * The ratios reported. Their targets are the goals' (goals.ts); the others
 * are informational. The goals block has every goal, these included.
 */
const RATIOS: { of: string; to: string }[] = [
  { of: 'library-first', to: 'hand-rolled' },
  { of: 'library-first', to: 'baseline' },
  { of: 'library-replay', to: 'baseline' },
  { of: 'atomic-first', to: 'library-first' },
  { of: 'atomic-first', to: 'baseline' },
  { of: 'atomic-replay', to: 'baseline' },
  { of: 'redis-first', to: 'hand-rolled' },
  { of: 'redis-first', to: 'baseline' },
  { of: 'redis-replay', to: 'baseline' },
  { of: 'mariadb-first', to: 'hand-rolled' },
  { of: 'mariadb-first', to: 'baseline' },
  { of: 'mariadb-replay', to: 'baseline' },
  { of: 'memory-first', to: 'hand-rolled' },
  { of: 'memory-replay', to: 'baseline' },
  { of: 'peer-memory-first', to: 'hand-rolled' },
  { of: 'peer-redis-first', to: 'hand-rolled' },
];

/** The ratios whose two scenarios both ran. */
export function ratios(results: ScenarioResult[]): Ratio[] {
  const rps = new Map(results.map((r) => [r.name, r.medianRequestsPerSecond]));
  return RATIOS.filter(({ of, to }) => rps.has(of) && rps.has(to)).map(({ of, to }) => {
    const value = rps.get(of)! / rps.get(to)!;
    const target = ratioTarget(of, to);
    return { name: `${of} / ${to}`, value, target, met: target === undefined ? undefined : value >= target };
  });
}

/**
 * The first lines of the report: how PostgreSQL wrote commits in this run
 * (`--durable` or not), since every goal must hold both ways and two runs
 * must not be mixed up.
 */
export function formatHeader(durability: Durability, origin: string): string {
  const settings =
    `fsync=${durability.fsync ? 'on' : 'off'}, full_page_writes=${durability.fullPageWrites ? 'on' : 'off'}, ` +
    `synchronous_commit=${durability.synchronousCommit}`;
  const meaning = durability.fsync
    ? 'DURABLE run: every commit waits for its WAL flush to the disk, as in production (`--durable`).'
    : 'FAST run: commits do not wait for the disk, so the figures measure CPU, not the disk (without `--durable`; ' +
      'add it for fsync=on).';
  return `PostgreSQL fsync ${durability.fsync ? 'ON' : 'OFF'} (${settings}; ${origin}).\n${meaning}`;
}

/** The results as Markdown tables (scenarios, then ratios), ready for the README. */
export function formatTables(results: ScenarioResult[], computed: Ratio[]): string {
  const rows = results.map((r) => [
    r.name,
    r.requestsPerSecond.toFixed(0),
    r.medianRequestsPerSecond.toFixed(0),
    r.latencyMs.p50.toFixed(2),
    r.latencyMs.p99.toFixed(2),
    r.statementsPerRequest.total.toFixed(2),
    r.statementsPerRequest.idempotency.toFixed(2),
    r.redisCommandsPerRequest.toFixed(2),
    r.dynamodbCallsPerRequest.toFixed(2),
    r.appCpuMsPerRequest.toFixed(3),
    r.databaseCpuMsPerRequest === null ? 'n/a' : r.databaseCpuMsPerRequest.toFixed(3),
    r.rssMb.peak.toFixed(0),
    formatOutcomes(r.outcomes),
  ]);
  const scenarios = markdownTable(
    [
      'scenario',
      'req/s',
      'median req/s',
      'p50 ms',
      'p99 ms',
      'statements/req',
      'idempotency statements/req',
      'redis commands/req',
      'dynamodb calls/req',
      'app CPU ms/req',
      'DB CPU ms/req',
      'peak RSS MB',
      'responses',
    ],
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    rows,
  );
  const ratioRows = computed.map((r) => [
    r.name,
    `${r.value.toFixed(2)}x`,
    r.target === undefined ? '' : `>= ${r.target.toFixed(2)}x: ${r.met ? 'met' : 'NOT met'}`,
  ]);
  if (ratioRows.length === 0) return scenarios;
  return `${scenarios}\n\n${markdownTable(['median requests/s ratio', 'value', 'target'], ['l', 'r', 'l'], ratioRows)}`;
}

/** The wait measurements as a Markdown table, with a line on what they measure and any failures. */
export function formatWaitLatency(results: WaitLatencyResult[]): string {
  const title =
    `Wait mode (issue 8): per round one original held in flight, ${results[0].duplicatesPerRound} duplicates waiting for it ` +
    `(@Idempotent({ wait: ${WAIT_ROUTE.wait} }), handler ${WAIT_ROUTE.handlerMs} ms once they wait); ` +
    `ms from the original's response to each duplicate's (first: the earliest); for comparison, ` +
    `${results[0].duplicatesPerRound} replays sent at once after each round, ms from sending to each answer`;
  const rows = results.map((r) => [
    r.name,
    String(r.rounds),
    String(r.rounds * r.duplicatesPerRound),
    r.afterOriginalMs.min.toFixed(2),
    r.afterOriginalMs.p50.toFixed(2),
    r.afterOriginalMs.p99.toFixed(2),
    r.afterOriginalMs.max.toFixed(2),
    `${r.replayed} of ${r.rounds * r.duplicatesPerRound}`,
    r.replayBurstMs.p50.toFixed(2),
    r.replayBurstMs.p99.toFixed(2),
  ]);
  const table = markdownTable(
    [
      'measurement',
      'rounds',
      'duplicates',
      'first ms',
      'p50 ms',
      'p99 ms',
      'max ms',
      '201 replayed, same body',
      'replay burst p50 ms',
      'replay burst p99 ms',
    ],
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows,
  );
  const failures = results
    .filter((r) => r.failures > 0)
    .map((r) => `${r.name}: ${r.failures} unexpected answers, e.g. ${r.failureExamples.join('; ')}`);
  return [title, table, ...failures].join('\n\n');
}

/** Writes the run as JSON to `<dir>/bench-<time>.json` and returns the path. */
export async function writeJson(dir: string, document: BenchReport): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `bench-${document.startedAt.replaceAll(':', '-')}.json`);
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
  return file;
}

/** The JSON document of a run. */
export interface BenchReport {
  startedAt: string;
  machine: Machine;
  settings: Record<string, unknown>;
  scenarios: ScenarioResult[];
  ratios: Ratio[];
  /** The wait measurements (wait-latency.ts). */
  waits: WaitLatencyResult[];
  goals: GoalResult[];
}

function formatOutcomes(outcomes: Record<string, number>): string {
  return Object.entries(outcomes)
    .sort(([, a], [, b]) => b - a)
    .map(([outcome, count]) => `${outcome}: ${count}`)
    .join(', ');
}
