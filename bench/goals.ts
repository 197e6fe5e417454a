import { markdownTable } from './markdown-table.js';
import type { ScenarioResult } from './metrics.js';

/** Title of the goals block in the report. */
export const GOALS_TITLE = 'Goals (issue 8)';

/** The figure of a scenario that a goal compares. */
export type GoalMetric = 'requestsPerSecond' | 'p50' | 'p99';

/**
 * A performance goal of the project, judged on the figures of one run. With
 * `to`, the value is the ratio of the two scenarios' figures; without it, the
 * figure of `of` itself (e.g. a latency bound). Give `atLeast` or `atMost`.
 */
export interface Goal {
  /** The scenario measured. */
  of: string;
  /** The scenario it is divided by. */
  to?: string;
  /** The median of the windows' requests/s (default), or the run's p50 or p99 latency in ms. */
  metric?: GoalMetric;
  /** Met when the value is at least this (throughput). */
  atLeast?: number;
  /** Met when the value is at most this (latency). */
  atMost?: number;
  /**
   * Judged only in runs whose PostgreSQL has `fsync` so (`on` is `--durable`);
   * other runs print it as not measured. Default: judged in both.
   */
  fsync?: 'on' | 'off';
}

/**
 * The goals, in the order printed. Each must hold with fsync off and on
 * (two runs) unless it says `fsync`. To add one, add a line, e.g.
 * `{ of: 'atomic-first', to: 'library-first', atLeast: 1.3, fsync: 'on' }` or
 * `{ of: 'library-wait', metric: 'p99', atMost: 50 }`.
 */
export const GOALS: Goal[] = [
  { of: 'library-first', to: 'hand-rolled', atLeast: 0.95 },
  { of: 'library-replay', to: 'baseline', atLeast: 1.0 },
  { of: 'redis-first', to: 'peer-redis-first', atLeast: 1.1 },
  { of: 'redis-replay', to: 'peer-redis-replay', atLeast: 1.1 },
  { of: 'memory-first', to: 'peer-memory-first', atLeast: 1.1 },
  { of: 'memory-replay', to: 'peer-memory-replay', atLeast: 1.1 },
];

/** A goal as judged on one run. */
export interface GoalResult {
  /** e.g. `library-first / hand-rolled`, or `library-wait p99 ms`. */
  name: string;
  /** e.g. `>= 0.95x`, `<= 50 ms`. */
  target: string;
  /** The ratio or the figure; absent when not measured. */
  value?: number;
  /** `x` for a ratio, ` ms` for a latency. */
  unit: 'x' | ' ms';
  status: 'met' | 'NOT met' | 'not measured';
  /** Why it was not measured. */
  reason?: string;
}

/** Judges every goal of {@link GOALS} on `results`, a run whose PostgreSQL had `fsync` on or off. */
export function judgeGoals(results: ScenarioResult[], fsync: boolean, goals: Goal[] = GOALS): GoalResult[] {
  const byName = new Map(results.map((r) => [r.name, r]));
  return goals.map((goal) => {
    const unit = goal.to === undefined && (goal.metric ?? 'requestsPerSecond') !== 'requestsPerSecond' ? ' ms' : 'x';
    const bound = (value: number) => `${unit === 'x' ? value.toFixed(2) : value}${unit}`;
    const judged = {
      name: goalName(goal),
      unit,
      target: goal.atLeast !== undefined ? `>= ${bound(goal.atLeast)}` : `<= ${bound(goal.atMost!)}`,
    } as const;
    if (goal.fsync && goal.fsync !== (fsync ? 'on' : 'off')) {
      const run = goal.fsync === 'on' ? 'a run with --durable (fsync on)' : 'a run without --durable (fsync off)';
      return { ...judged, status: 'not measured', reason: `judged in ${run}` };
    }
    const missing = [goal.of, goal.to].filter((scenario) => scenario !== undefined && !byName.has(scenario));
    if (missing.length > 0) return { ...judged, status: 'not measured', reason: `${missing.join(', ')} not run` };
    const figure = (scenario: string) => metricOf(byName.get(scenario)!, goal.metric);
    const value = goal.to === undefined ? figure(goal.of) : figure(goal.of) / figure(goal.to);
    const met = (goal.atLeast === undefined || value >= goal.atLeast) && (goal.atMost === undefined || value <= goal.atMost);
    return { ...judged, value, status: met ? 'met' : 'NOT met' };
  });
}

/** The goals block: a title with the tally, then one row per goal. */
export function formatGoals(judged: GoalResult[], fsync: boolean): string {
  const count = (status: GoalResult['status']) => judged.filter((g) => g.status === status).length;
  const title =
    `${GOALS_TITLE}, PostgreSQL fsync ${fsync ? 'on' : 'off'}: ${count('met')} of ${judged.length} met` +
    (count('not measured') > 0 ? `, ${count('not measured')} not measured` : '');
  const rows = judged.map((g) => [
    g.name,
    g.value === undefined ? '' : `${g.value.toFixed(2)}${g.unit}`,
    g.target,
    g.status === 'not measured' ? `not measured (${g.reason})` : g.status,
  ]);
  return `${title}\n\n${markdownTable(['goal', 'value', 'target', 'status'], ['l', 'r', 'l', 'l'], rows)}`;
}

/** The target of the requests/s ratio `of / to`, when a goal sets one (the ratios table shows it). */
export function ratioTarget(of: string, to: string): number | undefined {
  return GOALS.find((g) => g.of === of && g.to === to && (g.metric ?? 'requestsPerSecond') === 'requestsPerSecond' && !g.fsync)
    ?.atLeast;
}

function goalName(goal: Goal): string {
  const scenarios = goal.to === undefined ? goal.of : `${goal.of} / ${goal.to}`;
  const metric = goal.metric === undefined || goal.metric === 'requestsPerSecond' ? '' : ` ${goal.metric}`;
  return `${scenarios}${metric}${goal.fsync ? ` (fsync ${goal.fsync})` : ''}`;
}

function metricOf(result: ScenarioResult, metric: GoalMetric = 'requestsPerSecond'): number {
  return metric === 'requestsPerSecond' ? result.medianRequestsPerSecond : result.latencyMs[metric];
}
