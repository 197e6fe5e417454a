import { markdownTable } from './markdown-table.js';

/** Title of the goals block in the report. */
export const GOALS_TITLE = 'Goals (issue 8)';

/** The figure of a scenario that a goal compares. */
export type GoalMetric = 'requestsPerSecond' | 'p50' | 'p99';

/**
 * A performance goal of the project, judged on the figures of one run. With
 * `to`, the value is the ratio of the two scenarios' figures; without it, the
 * figure of `of` itself (e.g. a latency bound). Give `atLeast` or `atMost`,
 * or neither for a figure the goals block reports without a target.
 */
export interface Goal {
  /** The scenario (or wait measurement) measured. */
  of: string;
  /** The scenario it is divided by. */
  to?: string;
  /**
   * The median of the windows' requests/s (default), or the run's p50 or p99
   * latency in ms (of a wait measurement: from the original's response to each duplicate's).
   */
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
 * `{ of: 'redis-first', to: 'hand-rolled', atLeast: 1.0 }` or
 * `{ of: 'wait-postgres', metric: 'p99', atMost: 50 }`.
 */
export const GOALS: Goal[] = [
  { of: 'library-first', to: 'hand-rolled', atLeast: 0.95 },
  { of: 'library-replay', to: 'baseline', atLeast: 1.0 },
  { of: 'redis-first', to: 'peer-redis-first', atLeast: 1.1 },
  { of: 'redis-replay', to: 'peer-redis-replay', atLeast: 1.1 },
  { of: 'memory-first', to: 'peer-memory-first', atLeast: 1.1 },
  { of: 'memory-replay', to: 'peer-memory-replay', atLeast: 1.1 },
  // One commit instead of three: it pays where a commit waits for the disk.
  { of: 'atomic-first', to: 'library-first', atLeast: 1.3, fsync: 'on' },
  // Issue 8 asks to show these; no target yet.
  { of: 'wait-postgres', metric: 'p99' },
  { of: 'wait-redis', metric: 'p99' },
];

/** The figures of a scenario or a wait measurement that goals read (a `ScenarioResult` is one). */
export interface GoalFigures {
  name: string;
  /** The median of the windows' requests/s; absent for a wait measurement. */
  medianRequestsPerSecond?: number;
  /** ms: of every response (a scenario); from the original's response to each duplicate's (a wait measurement). */
  latencyMs: { p50: number; p99: number };
}

/** A goal as judged on one run. */
export interface GoalResult {
  /** e.g. `library-first / hand-rolled`, or `wait-postgres p99`. */
  name: string;
  /** e.g. `>= 0.95x`, `<= 50 ms`, or `none` when the goal reports the figure only. */
  target: string;
  /** The ratio or the figure; absent when not measured. */
  value?: number;
  /** `x` for a ratio, ` ms` for a latency. */
  unit: 'x' | ' ms';
  status: 'met' | 'NOT met' | 'reported' | 'not measured';
  /** Why it was not measured. */
  reason?: string;
}

/** Judges every goal of {@link GOALS} on `results`, a run whose PostgreSQL had `fsync` on or off. */
export function judgeGoals(results: GoalFigures[], fsync: boolean, goals: Goal[] = GOALS): GoalResult[] {
  const byName = new Map(results.map((r) => [r.name, r]));
  return goals.map((goal) => {
    const unit = goal.to === undefined && (goal.metric ?? 'requestsPerSecond') !== 'requestsPerSecond' ? ' ms' : 'x';
    const bound = (value: number) => `${unit === 'x' ? value.toFixed(2) : value}${unit}`;
    const judged = {
      name: goalName(goal),
      unit,
      target: goal.atLeast !== undefined ? `>= ${bound(goal.atLeast)}` : goal.atMost !== undefined ? `<= ${bound(goal.atMost)}` : 'none',
    } as const;
    if (goal.fsync && goal.fsync !== (fsync ? 'on' : 'off')) {
      const run = goal.fsync === 'on' ? 'a run with --durable (fsync on)' : 'a run without --durable (fsync off)';
      return { ...judged, status: 'not measured', reason: `judged in ${run}` };
    }
    const missing = [goal.of, goal.to].filter((scenario) => scenario !== undefined && !byName.has(scenario));
    if (missing.length > 0) return { ...judged, status: 'not measured', reason: `${missing.join(', ')} not run` };
    const figure = (scenario: string) => metricOf(byName.get(scenario)!, goal.metric);
    const lacking = [goal.of, goal.to].filter((scenario) => scenario !== undefined && figure(scenario) === undefined);
    if (lacking.length > 0) return { ...judged, status: 'not measured', reason: `${lacking.join(', ')} has no ${goal.metric ?? 'requests/s'}` };
    const value = goal.to === undefined ? figure(goal.of)! : figure(goal.of)! / figure(goal.to)!;
    if (goal.atLeast === undefined && goal.atMost === undefined) return { ...judged, value, status: 'reported' };
    const met = (goal.atLeast === undefined || value >= goal.atLeast) && (goal.atMost === undefined || value <= goal.atMost);
    return { ...judged, value, status: met ? 'met' : 'NOT met' };
  });
}

/** The goals block: a title with the tally, then one row per goal. */
export function formatGoals(judged: GoalResult[], fsync: boolean): string {
  const count = (status: GoalResult['status']) => judged.filter((g) => g.status === status).length;
  const targets = judged.filter((g) => g.target !== 'none').length;
  const title =
    `${GOALS_TITLE}, PostgreSQL fsync ${fsync ? 'on' : 'off'}: ${count('met')} of ${targets} met` +
    (count('not measured') > 0 ? `, ${count('not measured')} not measured` : '') +
    (count('reported') > 0 ? `, ${count('reported')} reported without a target` : '');
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

function metricOf(result: GoalFigures, metric: GoalMetric = 'requestsPerSecond'): number | undefined {
  return metric === 'requestsPerSecond' ? result.medianRequestsPerSecond : result.latencyMs[metric];
}
