import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Machine } from './machine.js';
import type { ScenarioResult } from './metrics.js';

/** A ratio of requests/s between two scenarios of the same run, with its target if any. */
export interface Ratio {
  name: string;
  value: number;
  target?: number;
  met?: boolean;
}

/**
 * The ratios reported, with the project's targets: within 10% of hand-rolled
 * idempotency; replays no slower than no idempotency. The Redis ratios are
 * informational.
 */
const RATIOS: { of: string; to: string; target?: number }[] = [
  { of: 'library-first', to: 'hand-rolled', target: 0.9 },
  { of: 'library-first', to: 'baseline' },
  { of: 'library-replay', to: 'baseline', target: 1.0 },
  { of: 'redis-first', to: 'hand-rolled' },
  { of: 'redis-first', to: 'baseline' },
  { of: 'redis-replay', to: 'baseline' },
  { of: 'mariadb-first', to: 'hand-rolled' },
  { of: 'mariadb-first', to: 'baseline' },
  { of: 'mariadb-replay', to: 'baseline' },
];

/** The ratios whose two scenarios both ran. */
export function ratios(results: ScenarioResult[]): Ratio[] {
  const rps = new Map(results.map((r) => [r.name, r.requestsPerSecond]));
  return RATIOS.filter(({ of, to }) => rps.has(of) && rps.has(to)).map(({ of, to, target }) => {
    const value = rps.get(of)! / rps.get(to)!;
    return { name: `${of} / ${to}`, value, target, met: target === undefined ? undefined : value >= target };
  });
}

/** The results as Markdown tables (scenarios, then ratios), ready for the README. */
export function formatTables(results: ScenarioResult[], computed: Ratio[]): string {
  const rows = results.map((r) => [
    r.name,
    r.requestsPerSecond.toFixed(0),
    r.latencyMs.p50.toFixed(2),
    r.latencyMs.p99.toFixed(2),
    r.statementsPerRequest.total.toFixed(2),
    r.statementsPerRequest.idempotency.toFixed(2),
    r.redisCommandsPerRequest.toFixed(2),
    r.appCpuMsPerRequest.toFixed(3),
    r.databaseCpuMsPerRequest === null ? 'n/a' : r.databaseCpuMsPerRequest.toFixed(3),
    r.rssMb.peak.toFixed(0),
    formatOutcomes(r.outcomes),
  ]);
  const scenarios = table(
    [
      'scenario',
      'req/s',
      'p50 ms',
      'p99 ms',
      'statements/req',
      'idempotency statements/req',
      'redis commands/req',
      'app CPU ms/req',
      'DB CPU ms/req',
      'peak RSS MB',
      'responses',
    ],
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    rows,
  );
  const ratioRows = computed.map((r) => [
    r.name,
    `${r.value.toFixed(2)}x`,
    r.target === undefined ? '' : `>= ${r.target.toFixed(2)}x: ${r.met ? 'met' : 'NOT met'}`,
  ]);
  if (ratioRows.length === 0) return scenarios;
  return `${scenarios}\n\n${table(['requests/s ratio', 'value', 'target'], ['l', 'r', 'l'], ratioRows)}`;
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
}

function formatOutcomes(outcomes: Record<string, number>): string {
  return Object.entries(outcomes)
    .sort(([, a], [, b]) => b - a)
    .map(([outcome, count]) => `${outcome}: ${count}`)
    .join(', ');
}

function table(header: string[], align: ('l' | 'r')[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
