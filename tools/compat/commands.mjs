// Child processes of the compatibility suite: the environment they get, and
// a promise-based run that keeps their output (for the log and for a failure).
/* global process, Buffer, setTimeout, clearTimeout */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { dirname } from 'node:path';

// `npm run compat` hands its own settings to children as npm_* variables (among them
// npm_config_local_prefix, the checkout, and npm_config_nodedir, the host Node's
// headers). An app's `npm install` must see none of them, as in a user's shell; only
// the settings that say how to reach the registry are kept.
const KEPT_NPM_SETTINGS = new Set(
  ['registry', 'cache', 'userconfig', 'cafile', 'strict_ssl', 'proxy', 'https_proxy', 'noproxy'].map((name) => `npm_config_${name}`),
);

/** The environment of every child: the caller's, less npm's run-time variables, with this Node's bin first on PATH. */
export function childEnv(extra = {}) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    const lower = name.toLowerCase();
    if (lower.startsWith('npm_') && !KEPT_NPM_SETTINGS.has(lower)) continue;
    if (name === 'NODE' || name === 'INIT_CWD') continue;
    env[name] = value;
  }
  env.PATH = `${dirname(process.execPath)}:${process.env.PATH}`;
  return { ...env, ...extra };
}

/** Commands still running, killed when the suite exits early (Ctrl-C, SIGTERM, a crash). */
const running = new Set();
process.on('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/**
 * Runs `command args` in `cwd` and resolves (never rejects) with its exit code,
 * its output (stdout and stderr interleaved) and how long it took. The output is
 * also appended to `logFile` when given.
 */
export function run(command, args, { cwd, env = childEnv(), logFile, timeoutMs = 10 * 60_000 } = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    const chunks = [];
    const keep = (chunk) => chunks.push(chunk);
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const finish = (code, error) => {
      running.delete(child);
      clearTimeout(timer);
      let output = Buffer.concat(chunks).toString('utf8');
      if (error) output += `\n${error.message}`;
      if (logFile) appendFileSync(logFile, `$ ${command} ${args.join(' ')}\n${output}\n`);
      resolve({ code, output, ms: Date.now() - started });
    };
    child.once('error', (error) => finish(-1, error));
    child.once('close', (code, signal) => finish(code ?? `killed by ${signal}`));
  });
}

/** The last `count` non-empty lines of `text`, indented, for a failure's explanation. */
export function tail(text, count = 25) {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  return lines.slice(-count).map((line) => `      ${line}`).join('\n');
}
