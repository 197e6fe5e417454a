import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openBenchDatabase } from './database.js';
import { describeMachine } from './machine.js';
import { parseOptions } from './options.js';
import { formatProfile, summarizeProfiles } from './profile.js';
import { formatTables, ratios, writeJson } from './report.js';
import { ScenarioRun } from './scenario-runner.js';

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

  progress('Starting PostgreSQL...');
  const database = await openBenchDatabase();
  const runs: ScenarioRun[] = [];
  try {
    const machine = describeMachine(database.serverVersion);
    progress(
      `PostgreSQL ${database.serverVersion} (${database.origin}); ${options.connections} connections, pool ${options.pool}; ` +
        `${options.rounds} rounds of ${window.toFixed(1)} s per scenario, ${options.warmup} s warm-up each`,
    );
    for (const scenario of options.scenarios) {
      runs.push(await ScenarioRun.start(scenario, database, { connections: options.connections, pool: options.pool }));
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
    };
    const report = { startedAt, machine, settings, scenarios: results, ratios: computed };
    const file = await writeJson(options.out, report);
    console.log(`\n${formatTables(results, computed)}\n`);
    console.log(
      `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGb} GB, ${machine.os}; ` +
        `Node ${machine.node}; PostgreSQL ${machine.postgres}. Load average at start: ${machine.loadAverageAtStart.toFixed(2)}.`,
    );
    console.log(`JSON: ${file}`);
    if (options.json) console.log(JSON.stringify(report, null, 2));
  } finally {
    for (const run of runs) await run.stop();
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
