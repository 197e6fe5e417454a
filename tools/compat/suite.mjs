// The compatibility suite itself (run.mjs starts it on the right Node): pack,
// start the stores' backends, then check each app in its own temp folder, side
// by side, and close with `N passed, N failed`.
/* global process, console */
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { availableParallelism, constants, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testApp } from './app-checks.mjs';
import { startBackends } from './backends.mjs';
import { APPS } from './matrix.mjs';
import { pack } from './pack.mjs';
import { seconds } from './report.mjs';
import { STORES } from './stores.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs the apps whose names contain one of `filters` (all without filters); resolves the exit code. */
export async function main(filters) {
  const started = Date.now();
  const apps = APPS.filter((app) => filters.length === 0 || filters.some((word) => app.name.includes(word)));
  if (apps.length === 0) return usage(`no app matches ${filters.join(' ')}; the apps: ${APPS.map((app) => app.name).join(', ')}`);
  const given = process.env.COMPAT_TARBALL && resolve(process.env.COMPAT_TARBALL);
  if (given && !existsSync(given)) return usage(`COMPAT_TARBALL: no file ${given}`);
  const { main: entry } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
  if (!given && !existsSync(join(ROOT, entry))) return usage(`${entry} is missing: run \`npm run build\` first`);

  const work = await mkdtemp(join(tmpdir(), 'nestjs-idempotency-compat-'));
  const keepOnFailure = process.env.COMPAT_KEEP === '1';
  const totals = { passed: 0, failed: 0 };
  const removeWork = () => {
    if (!(keepOnFailure && totals.failed > 0)) rmSync(work, { recursive: true, force: true });
  };
  process.on('exit', removeWork); // also after Ctrl-C
  // Ctrl-C, SIGTERM, SIGHUP: exit, so that the 'exit' hooks stop the apps and the backends and remove `work`.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => process.exit(128 + constants.signals[signal]));
  console.log(`compat: ${apps.length} apps on Node ${process.version}, in ${work}`);

  const backends = startBackends(apps.map((app) => STORES[app.store].backend));
  backends.catch(() => undefined); // awaited by each app, which reports the failure
  try {
    const packDir = join(work, 'package');
    await mkdir(packDir);
    if (given) console.log(`compat: testing ${given} (COMPAT_TARBALL)`);
    const tarball = given || (await pack(ROOT, packDir, totals));
    if (tarball !== undefined) {
      const cpu = limiter(availableParallelism());
      await Promise.all(apps.map((app) => testApp(app, { dir: join(work, app.name), tarball, backends, cpu, totals })));
    }
  } finally {
    await backends.then((started) => started.stopAll()).catch(() => undefined);
  }

  removeWork();
  if (keepOnFailure && totals.failed > 0) console.log(`compat: kept ${work} (each app with its compat.log)`);
  console.log(`compat: done in ${seconds(Date.now() - started)}`);
  console.log(`${totals.passed} passed, ${totals.failed} failed`);
  return totals.failed > 0 ? 1 : 0;
}

function usage(message) {
  console.error(`compat: ${message}`);
  return 2;
}

/** Runs at most `count` of the tasks given to it at a time (the CPU-bound ones: tsc). */
function limiter(count) {
  let active = 0;
  const waiting = [];
  return async (task) => {
    while (active >= count) await new Promise((wake) => waiting.push(wake));
    active += 1;
    try {
      return await task();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}
