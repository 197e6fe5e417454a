// Boots a compiled app (`node dist/main.js`) and stops it; keeps its output so
// that the suite can show it and look for warnings in it.
/* global process, setTimeout, clearTimeout */
import { spawn } from 'node:child_process';
import { childEnv } from './commands.mjs';

const READY = /compat-app listening on port (\d+)/;

/** Apps still running, stopped when the suite exits early (Ctrl-C, a crash). */
const running = new Set();
process.on('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/**
 * Starts the app in `dir` with `env` added; resolves once it prints its port, with
 * `url`, `output()` (everything it printed so far) and `stop()`. Rejects, with its
 * output, if it exits or is not ready within `timeoutMs`.
 */
export function bootApp(dir, env, { timeoutMs = 60_000 } = {}) {
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: dir, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve(code ?? signal)));
  exited.then(() => running.delete(child));

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM'); // Nest's shutdown hooks close the app and its DataSource
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const fail = (reason) =>
      settle(() => stop().then(() => reject(Object.assign(new Error(reason), { output }))));
    const timer = setTimeout(() => fail(`not listening after ${timeoutMs / 1000} s`), timeoutMs);
    const collect = (chunk) => {
      output += chunk;
      const ready = READY.exec(output);
      if (ready) settle(() => resolve({ url: `http://127.0.0.1:${ready[1]}`, output: () => output, stop }));
    };
    child.stdout.setEncoding('utf8').on('data', collect);
    child.stderr.setEncoding('utf8').on('data', collect);
    child.once('error', (error) => fail(error.message));
    exited.then((status) => fail(`exited (${status}) before listening`));
  });
}
