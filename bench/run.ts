import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openBenchDatabase } from './database.js';
import { formatGoals, judgeGoals } from './goals.js';
import { openBenchDynamodb } from './dynamodb.js';
import { describeMachine } from './machine.js';
import { parseOptions } from './options.js';
import { openPeerLibrary, PEER_PACKAGE } from './peer.js';
import { formatProfile, summarizeProfiles } from './profile.js';
import { MYSQL_LABEL, openBenchMariadb } from './mariadb.js';
import { openBenchRedis, REDIS_LABEL } from './redis.js';
import { formatHeader, formatTables, formatWaitLatency, ratios, writeJson } from './report.js';
import { ScenarioRun } from './scenario-runner.js';
import { usesDynamodb, usesMariadb, usesPeer, usesRedis } from './scenarios.js';
import type { AppMode } from './protocol.js';
import { measureWaitLatency, WAIT_DUPLICATES, type WaitLatencyResult } from './wait-latency.js';

/**
 * `npm run bench`: measures each scenario against its own app process, the
 * scenarios taking turns over the rounds, then each wait measurement
 * (wait-latency.ts) on an app of its own; prints a header saying how
 * PostgreSQL wrote commits (fsync on with `--durable`, else off), the results
 * as Markdown tables and the goals block, and writes them as JSON to
 * `bench-results/`. Progress goes to stderr, results to stdout.
 */
async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date().toISOString();
  const progress = (message: string) => process.stderr.write(`${message}\n`);
  const profileDir = join(options.out, `profiles-${startedAt.replaceAll(':', '-')}`);
  if (options.cpuProf) await mkdir(profileDir, { recursive: true });
  const window = options.duration / options.rounds;

  const redisFor = await openServerFor([...options.scenarios, ...options.waits], usesRedis, {
    name: 'Redis',
    open: openBenchRedis,
    hint: 'Set REDIS_URL or start redis-server',
  });
  const opened: Array<{ close(): Promise<void> } | undefined> = [redisFor.server];
  const closeStores = () => closeAll(opened);
  const closingOnFailure = async (error: unknown): Promise<never> => {
    await closeStores();
    throw error;
  };
  const mariadbFor = await openServerFor(redisFor.scenarios, usesMariadb, {
    name: 'MariaDB',
    open: openBenchMariadb,
    hint: 'Set MYSQL_URL or start mariadb',
  }).catch(closingOnFailure);
  opened.push(mariadbFor.server);
  const peerFor = await openServerFor(mariadbFor.scenarios, usesPeer, {
    name: PEER_PACKAGE,
    open: openPeerLibrary,
    hint: 'Run npm install',
  }).catch(closingOnFailure);
  const dynamodbFor = await openServerFor(peerFor.scenarios, usesDynamodb, {
    name: 'dynalite',
    open: openBenchDynamodb,
    hint: 'Run npm install',
  }).catch(closingOnFailure);
  opened.push(dynamodbFor.server);
  const scenarios = options.scenarios.filter((s) => dynamodbFor.scenarios.includes(s));
  const waits = options.waits.filter((w) => dynamodbFor.scenarios.includes(w));
  const peer = peerFor.server;
  const [redis, mariadb, dynamodb] = [redisFor.server, mariadbFor.server, dynamodbFor.server];
  progress('Starting PostgreSQL...');
  const database = await openBenchDatabase({ durable: options.durable }).catch(closingOnFailure);
  const runs: ScenarioRun[] = [];
  try {
    const machine = describeMachine(database.serverVersion, redis?.serverVersion, mariadb?.serverVersion, peer?.version);
    const header = formatHeader(database.durability, database.origin);
    progress(header);
    progress(
      `PostgreSQL ${database.serverVersion} (${database.origin}); ` +
        (redis ? `Redis ${redis.serverVersion} (${REDIS_LABEL}); ` : '') +
        (mariadb ? `MariaDB ${mariadb.serverVersion} (${MYSQL_LABEL}); ` : '') +
        (dynamodb ? `${dynamodb.serverVersion} (${dynamodb.endpoint}); ` : '') +
        `${options.connections} connections, pool ${options.pool}` +
        (scenarios.length > 0 ? `; ${options.rounds} rounds of ${window.toFixed(1)} s per scenario, ${options.warmup} s warm-up each` : '') +
        (waits.length > 0 ? `; ${options.waitRounds} wait rounds of ${WAIT_DUPLICATES} duplicates per wait measurement` : ''),
    );
    // The apps boot together (nothing is measured yet): the run spends less time waiting for them.
    const load = { connections: options.connections, pool: options.pool };
    const started = await Promise.allSettled(
      scenarios.map((scenario) => ScenarioRun.start(scenario, database, load, { redis, mariadb, dynamodb })),
    );
    for (const result of started) if (result.status === 'fulfilled') runs.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const profiles = new Map<ScenarioRun, string[]>(runs.map((run) => [run, []]));
    for (let round = 0; round < options.rounds; round++) {
      // Rotate the order so that no scenario always follows the same one.
      const order = runs.map((_, i) => runs[(i + round) % runs.length]);
      for (const run of order) {
        const warmup = round === 0 ? 2 * options.warmup : options.warmup;
        const profileFile = options.cpuProf ? join(profileDir, `${run.scenario.name}-${round + 1}.cpuprofile`) : undefined;
        const { load } = await run.measure(warmup, window, profileFile);
        if (profileFile) profiles.get(run)!.push(profileFile);
        progress(`  round ${round + 1}/${options.rounds} ${run.scenario.name}: ${(load.responses / load.duration).toFixed(0)} req/s`);
      }
    }
    const results = runs.map((run) => run.result());
    if (options.cpuProf) {
      for (const run of runs) {
        progress(`\nCPU profile of ${run.scenario.name} (${profileDir}):\n${formatProfile(await summarizeProfiles(profiles.get(run)!))}`);
      }
    }
    // The scenarios' apps are done: stopped now, they take nothing from the wait measurements.
    for (const run of runs) await run.stop();
    const waitResults: WaitLatencyResult[] = [];
    for (const measurement of waits) {
      const result = await measureWaitLatency(measurement, database, options.pool, { redis, mariadb, dynamodb }, options.waitRounds);
      waitResults.push(result);
      const { p50, p99 } = result.afterOriginalMs;
      progress(`  ${measurement.name}: duplicates answered ${p50.toFixed(2)} ms (p50), ${p99.toFixed(2)} ms (p99) after the original`);
    }

    const computed = ratios(results);
    const waitFigures = waitResults.map((w) => ({ name: w.name, latencyMs: w.afterOriginalMs }));
    const goals = judgeGoals([...results, ...waitFigures], database.durability.fsync);
    const settings = {
      durationSeconds: options.duration,
      rounds: options.rounds,
      warmupSeconds: options.warmup,
      connections: options.connections,
      poolSize: options.pool,
      postgres: database.origin,
      postgresDurability: database.durability,
      redis: redis ? REDIS_LABEL : (redisFor.skipped ?? 'not used'),
      mariadb: mariadb ? MYSQL_LABEL : (mariadbFor.skipped ?? 'not used'),
      dynamodb: dynamodb ? dynamodb.serverVersion : (dynamodbFor.skipped ?? 'not used'),
      peer: peer ? `${PEER_PACKAGE} ${peer.version}` : (peerFor.skipped ?? 'not used'),
      waitRounds: options.waitRounds,
      waitDuplicates: WAIT_DUPLICATES,
    };
    const report = { startedAt, machine, settings, scenarios: results, ratios: computed, waits: waitResults, goals };
    const file = await writeJson(options.out, report);
    const tables = [
      ...(results.length > 0 ? [formatTables(results, computed)] : []),
      ...(waitResults.length > 0 ? [formatWaitLatency(waitResults)] : []),
    ];
    console.log(`\n${header}\n\n${tables.join('\n\n')}\n\n${formatGoals(goals, database.durability.fsync)}\n`);
    console.log(
      `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGb} GB, ${machine.os}; ` +
        `Node ${machine.node}; PostgreSQL ${machine.postgres}${machine.redis ? `; Redis ${machine.redis}` : ''}` +
        `${machine.mariadb ? `; MariaDB ${machine.mariadb}` : ''}` +
        `${machine.peer ? `; ${PEER_PACKAGE} ${machine.peer}` : ''}. ` +
        `Load average at start: ${machine.loadAverageAtStart.toFixed(2)}.`,
    );
    console.log(`JSON: ${file}`);
    if (options.json) console.log(JSON.stringify(report, null, 2));
  } finally {
    for (const run of runs) await run.stop();
    try {
      await closeStores();
    } finally {
      await database.close();
    }
  }
}

/**
 * A server or package that some scenarios need (Redis, MariaDB, the peer
 * library): how to open it, and what to say when it does not answer.
 */
interface OptionalServer<T> {
  name: string;
  open: () => Promise<T>;
  /** How to make it answer, e.g. `Set REDIS_URL or start redis-server`. */
  hint: string;
}

/**
 * Opens `server` when a selected scenario `needs` it. When it does not
 * answer, prints one line saying which rows are skipped and why, and leaves
 * those scenarios out: the others still run. Throws when none would be left.
 */
async function openServerFor<S extends { name: string; mode: AppMode }, T>(
  selected: S[],
  needs: (scenario: S) => boolean,
  server: OptionalServer<T>,
): Promise<{ scenarios: S[]; server?: T; skipped?: string }> {
  const needing = selected.filter(needs);
  if (needing.length === 0) return { scenarios: selected };
  try {
    return { scenarios: selected, server: await server.open() };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const names = needing.map((s) => s.name).join(', ');
    console.log(`${server.name} rows skipped (${names}): ${reason}. ${server.hint} to include them.`);
    const scenarios = selected.filter((s) => !needs(s));
    if (scenarios.length === 0) throw new Error(`Nothing to run: every selected scenario needs ${server.name}.`, { cause: error });
    return { scenarios, skipped: `skipped: ${reason}` };
  }
}

/** Closes every open server, each even when another's close fails; rethrows the first failure. */
async function closeAll(servers: Array<{ close(): Promise<void> } | undefined>): Promise<void> {
  const results = await Promise.allSettled(servers.map((server) => server?.close()));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
