// Everything one app goes through: generated, installed with plain `npm
// install`, compiled, type-checked, booted on its store's backend, probed.
/* global process */
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bootApp } from './app-server.mjs';
import { run } from './commands.mjs';
import { generateApp } from './generate-app.mjs';
import { typeChecksOf } from './matrix.mjs';
import { probe } from './probe.mjs';
import { AppReport, seconds } from './report.mjs';
import { STORES } from './stores.mjs';

/**
 * A plain `npm install` asks the registry whether each cached package list is
 * still current, so the apps get what a user's install resolves today.
 * COMPAT_PREFER_OFFLINE=1 takes the cached lists as they are: faster, for local runs.
 */
const INSTALL_FLAGS = process.env.COMPAT_PREFER_OFFLINE === '1' ? ['--prefer-offline'] : [];

/** npm's words when it installs over a peer range (a user would see them, or need --legacy-peer-deps). */
const PEER_WARNING = /ERESOLVE|peer dep/i;

/** What each app reports as installed, to show which versions the ranges picked (and its store's `shownVersions`). */
const SHOWN_VERSIONS = ['@nestjs/core', 'typeorm', 'typescript'];

/** Warnings in an app's output that mean a check failed although the status was right. */
const FORBIDDEN_OUTPUT = [{ check: 'no "Content-Type doesn\'t match" warning', pattern: /Content-Type doesn't match/ }];

/**
 * Checks one app in `dir` against `tarball`, then prints its report. `backends`
 * resolves the started backends; `cpu` runs a CPU-bound task when a core is free.
 */
export async function testApp(app, { dir, tarball, backends, cpu, totals }) {
  const report = new AppReport(app, totals);
  try {
    await checkApp(app, report, { dir, tarball, backends, cpu });
  } catch (error) {
    report.fail('suite', error.stack ?? String(error));
  }
  report.flush();
}

async function checkApp(app, report, { dir, tarball, backends, cpu }) {
  const logFile = join(dir, 'compat.log');
  await generateApp(app, dir, tarball);

  const install = await run('npm', ['install', '--no-audit', '--no-fund', ...INSTALL_FLAGS], { cwd: dir, logFile });
  if (install.code !== 0) {
    report.fail('npm install', `exit ${install.code}`, install.output);
    return report.skip('compile, boot and probe', 'not installed');
  }
  const shown = [...SHOWN_VERSIONS, ...STORES[app.store].shownVersions];
  report.pass('npm install', `${seconds(install.ms)}; ${await installedVersions(dir, shown)}`);
  const peerWarnings = install.output.split('\n').filter((line) => PEER_WARNING.test(line));
  if (peerWarnings.length === 0) report.pass('no peer dependency warning from npm');
  else report.fail('no peer dependency warning from npm', `${peerWarnings.length} lines`, peerWarnings.join('\n'));

  const tscPath = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
  const tsc = (...args) => cpu(() => run(process.execPath, [tscPath, ...args], { cwd: dir, logFile }));
  const build = await tsc('-p', 'tsconfig.json');
  if (build.code === 0) report.pass('compile (tsc)', seconds(build.ms));
  else report.fail('compile (tsc)', `exit ${build.code}`, build.output);

  // The extra type checks run while the app boots and answers the probe.
  const typeChecks = typeCheck(app, tsc, report.part());
  try {
    if (build.code !== 0) report.skip('boot and probe', 'not compiled');
    else await bootAndProbe(app, dir, backends, logFile, report.part());
  } finally {
    await typeChecks;
  }
}

/** Runs the app's extra type checks side by side (as far as `tsc`'s limiter lets them); reports them in order. */
async function typeCheck(app, tsc, report) {
  const checks = typeChecksOf(app);
  const results = await Promise.all(checks.map(({ args }) => tsc('--noEmit', '-p', 'tsconfig.json', '--incremental', 'false', ...args)));
  checks.forEach(({ check }, index) => {
    const typed = results[index];
    if (typed.code === 0) report.pass(check, seconds(typed.ms));
    else report.fail(check, `exit ${typed.code}`, typed.output);
  });
}

/** Boots the app on a private part of its store's backend, probes it, stops it, and reads its output. */
async function bootAndProbe(app, dir, backends, logFile, report) {
  const store = STORES[app.store];
  let place;
  try {
    place = await store.provision((await backends).backends[store.backend], app.name);
  } catch (error) {
    report.fail(`${store.backend} for the app`, error.message);
    return report.skip('boot and probe', `no ${store.backend}`);
  }
  try {
    await probeApp(dir, { NO_COLOR: '1', ...place.env }, logFile, report);
  } finally {
    await place.drop();
  }
}

async function probeApp(dir, env, logFile, report) {
  const booting = Date.now();
  let server;
  try {
    server = await bootApp(dir, env);
  } catch (error) {
    report.fail('boot', error.message, error.output);
    return report.skip('probe', 'not booted');
  }
  report.pass('boot', seconds(Date.now() - booting));

  const results = await probe(server.url);
  await server.stop();
  const output = server.output();
  await appendFile(logFile, `$ node dist/main.js\n${output}\n`);
  for (const result of results) {
    if (result.ok) report.pass(result.name);
    else report.fail(result.name, result.detail);
  }
  for (const { check, pattern } of FORBIDDEN_OUTPUT) {
    const lines = output.split('\n').filter((line) => pattern.test(line));
    if (lines.length === 0) report.pass(check);
    else report.fail(check, `${lines.length} in the app's output`, lines.join('\n'));
  }
  if (results.some((result) => !result.ok)) report.note(`      the app's output:\n${indent(output)}`);
}

function indent(text) {
  return text.trimEnd().split('\n').slice(-40).map((line) => `      ${line}`).join('\n');
}

/** `name version` of each of `names` as installed in the app. */
async function installedVersions(dir, names) {
  const versions = [];
  for (const name of names) {
    const manifest = await readFile(join(dir, 'node_modules', name, 'package.json'), 'utf8').catch(() => undefined);
    versions.push(`${name} ${manifest === undefined ? 'missing' : JSON.parse(manifest).version}`);
  }
  return versions.join(', ');
}
