import type { LoadResult } from './load.js';
import type { AppStats } from './protocol.js';

const MB = 1024 * 1024;

/** One measured slice of a scenario: the load, and the counters of the app and of the database around it. */
export interface Window {
  load: LoadResult;
  before: AppStats;
  after: AppStats;
  /** CPU ms the app's database server processes spent in the window, when readable. */
  serverCpuMs?: number;
}

/** The figures of one scenario over all its windows, as printed and written to JSON. */
export interface ScenarioResult {
  name: string;
  summary: string;
  /** Responses per second seen by the load generator, over all windows together. */
  requestsPerSecond: number;
  /** The median of the windows' responses per second: what the goals compare (a slow window moves it less). */
  medianRequestsPerSecond: number;
  /** Response time percentiles in ms (every response, any status). */
  latencyMs: { p50: number; p99: number; mean: number };
  /** Responses received, by outcome (`201`, `201 replayed`, `409`...). */
  outcomes: Record<string, number>;
  responses: number;
  durationSeconds: number;
  errors: number;
  /**
   * Statements per request, counted at pg's `Client#query` in the app (and
   * at mysql2's `Connection#query`/`#execute` in `mariadb-*`): `total`, the
   * handler's own insert, and the rest (`idempotency`).
   */
  statementsPerRequest: { total: number; handler: number; idempotency: number };
  /** Redis commands per request, counted at the `sendCommand` of the app's ioredis client (0 without Redis). */
  redisCommandsPerRequest: number;
  /** DynamoDB calls per request, counted by a middleware of the app's client (0 without DynamoDB). */
  dynamodbCallsPerRequest: number;
  /** Requests the app received in the measured windows (the divisor of the per-request figures). */
  appRequests: number;
  /** CPU time (user + system) of the app process per request, in ms. */
  appCpuMsPerRequest: number;
  /**
   * CPU time of the database server processes serving the app per request, in ms: its PostgreSQL backends, and
   * in `mariadb-*` its MariaDB connection threads too (`null` when not readable).
   */
  databaseCpuMsPerRequest: number | null;
  /** App RSS in MB: after the first warm-up, at the end, and the peak sampled over the process's life. */
  rssMb: { afterWarmup: number; end: number; peak: number };
  /** Each window on its own, in the order measured: how much the figures moved during the run. */
  windows: { requestsPerSecond: number; appCpuMsPerRequest: number; databaseCpuMsPerRequest: number | null }[];
}

/** Sums the windows of one scenario into its {@link ScenarioResult}. */
export function scenarioResult(scenario: { name: string; summary: string }, windows: Window[]): ScenarioResult {
  const delta = (field: keyof AppStats) => windows.reduce((sum, w) => sum + w.after[field] - w.before[field], 0);
  const requests = delta('requests');
  const statements = delta('statements');
  const handler = delta('handlerStatements');
  const databaseCpu = serverCpu(windows);
  const responses = windows.reduce((sum, w) => sum + w.load.responses, 0);
  const duration = windows.reduce((sum, w) => sum + w.load.duration, 0);
  const latencies = concat(windows.map((w) => w.load.latencies)).sort();
  const windowRps = windows.map((w) => w.load.responses / w.load.duration);
  const outcomes: Record<string, number> = {};
  for (const { load } of windows) {
    for (const [outcome, count] of Object.entries(load.outcomes)) outcomes[outcome] = (outcomes[outcome] ?? 0) + count;
  }
  return {
    name: scenario.name,
    summary: scenario.summary,
    requestsPerSecond: responses / duration,
    medianRequestsPerSecond: median(windowRps),
    latencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), mean: mean(latencies) },
    outcomes,
    responses,
    durationSeconds: duration,
    errors: windows.reduce((sum, w) => sum + w.load.errors, 0),
    statementsPerRequest: {
      total: statements / requests,
      handler: handler / requests,
      idempotency: (statements - handler) / requests,
    },
    redisCommandsPerRequest: delta('redisCommands') / requests,
    dynamodbCallsPerRequest: delta('dynamodbCalls') / requests,
    appRequests: requests,
    appCpuMsPerRequest: delta('cpuMicros') / 1000 / requests,
    databaseCpuMsPerRequest: Number.isNaN(databaseCpu) ? null : databaseCpu / requests,
    rssMb: {
      afterWarmup: windows[0].before.rss / MB,
      end: windows[windows.length - 1].after.rss / MB,
      peak: Math.max(...windows.map((w) => w.after.peakRss)) / MB,
    },
    windows: windows.map((w) => {
      const windowRequests = w.after.requests - w.before.requests;
      return {
        requestsPerSecond: w.load.responses / w.load.duration,
        appCpuMsPerRequest: (w.after.cpuMicros - w.before.cpuMicros) / 1000 / windowRequests,
        databaseCpuMsPerRequest: w.serverCpuMs === undefined ? null : w.serverCpuMs / windowRequests,
      };
    }),
  };
}

/** Database CPU ms over the windows; NaN when a window could not read it. */
function serverCpu(windows: Window[]): number {
  return windows.reduce((sum, w) => sum + (w.serverCpuMs ?? NaN), 0);
}

function concat(arrays: Float64Array[]): Float64Array {
  const all = new Float64Array(arrays.reduce((sum, a) => sum + a.length, 0));
  let offset = 0;
  for (const array of arrays) {
    all.set(array, offset);
    offset += array.length;
  }
  return all;
}

/** The middle value (the mean of the two middle ones for an even count). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

function mean(values: Float64Array): number {
  let sum = 0;
  for (const value of values) sum += value;
  return values.length === 0 ? NaN : sum / values.length;
}
