import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openBenchDatabase } from './database.js';
import { describeMachine } from './machine.js';
import { parseOptions } from './options.js';
import { formatProfile, summarizeProfiles } from './profile.js';
import { openBenchRedis, REDIS_LABEL, type BenchRedis } from './redis.js';
import { formatTables, ratios, writeJson } from './report.js';
import { ScenarioRun } from './scenario-runner.js';
import { usesRedis, type Scenario } from './scenarios.js';

/**
 * `npm run bench`: measures each scenario against its own app process, the
 * scenarios taking turns over the rounds; prints the results as Markdown
 * tables and writes them as JSON to `bench-results/`. Progress goes to
 * stderr, results to stdout.
 */
async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date().toISOString();
  const progress = (message: string) => process.stderr.write(`${message}\n`);
  const profileDir = join(options.out, `profiles-${startedAt.replaceAll(':', '-')}`);
  if (options.cpuProf) await mkdir(profileDir, { recursive: true });
  const window = options.duration / options.rounds;

  const { scenarios, redis, redisSkipped } = await openRedisFor(options.scenarios);
  progress('Starting PostgreSQL...');
  const database = await openBenchDatabase().catch(async (error: unknown) => {
    await redis?.close();
    throw error;
  });
  const runs: ScenarioRun[] = [];
  try {
    const machine = describeMachine(database.serverVersion, redis?.serverVersion);
    progress(
      `PostgreSQL ${database.serverVersion} (${database.origin}); ` +
        (redis ? `Redis ${redis.serverVersion} (${REDIS_LABEL}); ` : '') +
        `${options.connections} connections, pool ${options.pool}; ` +
        `${options.rounds} rounds of ${window.toFixed(1)} s per scenario, ${options.warmup} s warm-up each`,
    );
    for (const scenario of scenarios) {
      runs.push(await ScenarioRun.start(scenario, database, { connections: options.connections, pool: options.pool }, redis));
    }
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

    const computed = ratios(results);
    const settings = {
      durationSeconds: options.duration,
      rounds: options.rounds,
      warmupSeconds: options.warmup,
      connections: options.connections,
      poolSize: options.pool,
      postgres: database.origin,
      redis: redis ? REDIS_LABEL : (redisSkipped ?? 'not used'),
    };
    const report = { startedAt, machine, settings, scenarios: results, ratios: computed };
    const file = await writeJson(options.out, report);
    console.log(`\n${formatTables(results, computed)}\n`);
    console.log(
      `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGb} GB, ${machine.os}; ` +
        `Node ${machine.node}; PostgreSQL ${machine.postgres}${machine.redis ? `; Redis ${machine.redis}` : ''}. ` +
        `Load average at start: ${machine.loadAverageAtStart.toFixed(2)}.`,
    );
    console.log(`JSON: ${file}`);
    if (options.json) console.log(JSON.stringify(report, null, 2));
  } finally {
    for (const run of runs) await run.stop();
    try {
      await redis?.close();
    } finally {
      await database.close();
    }
  }
}

/**
 * Opens Redis when a selected scenario needs it. When Redis does not answer,
 * prints one line saying which rows are skipped and why, and leaves those
 * scenarios out: the others still run. Throws when none would be left.
 */
async function openRedisFor(
  selected: Scenario[],
): Promise<{ scenarios: Scenario[]; redis?: BenchRedis; redisSkipped?: string }> {
  const needRedis = selected.filter(usesRedis);
  if (needRedis.length === 0) return { scenarios: selected };
  try {
    return { scenarios: selected, redis: await openBenchRedis() };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const names = needRedis.map((s) => s.name).join(', ');
    console.log(`Redis rows skipped (${names}): ${reason}. Set REDIS_URL or start redis-server to include them.`);
    const scenarios = selected.filter((s) => !usesRedis(s));
    if (scenarios.length === 0) throw new Error('Nothing to run: every selected scenario needs Redis.', { cause: error });
    return { scenarios, redisSkipped: `skipped: ${reason}` };
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
