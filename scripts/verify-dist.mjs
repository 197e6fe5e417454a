#!/usr/bin/env node
// Verifies that the build output (`npm run build` → dist/) loads under plain
// Node, outside Jest and TypeScript: by `import` and by `require` (Node's
// require(esm)), through the file and through the package name (`exports`).
// Each load runs in a fresh `node` process. Usage: npm run build && npm run verify:dist
/* global process, console */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const entry = join(root, 'dist', 'index.js');

/** The public API and the runtime type of each export. */
const EXPECTED = {
  IdempotencyModule: 'function',
  Idempotent: 'function',
  SkipIdempotency: 'function',
  IdempotencyService: 'function',
  IdempotencyInterceptor: 'function',
  IdempotencyStore: 'symbol',
  InMemoryIdempotencyStore: 'function',
  TypeOrmIdempotencyStore: 'function',
  IdempotencyRecord: 'function',
  CreateIdempotencyRecords: 'function',
  IDEMPOTENCY_RECORDS_TABLE: 'string',
  IDEMPOTENCY_KEY_HEADER: 'string',
  IDEMPOTENT_REPLAYED_HEADER: 'string',
  IdempotencyException: 'function',
  IdempotencyKeyMissingException: 'function',
  InvalidIdempotencyKeyException: 'function',
  IdempotencyKeyInFlightException: 'function',
  IdempotencyKeyReusedException: 'function',
  IdempotentResponseNotStoredException: 'function',
  IdempotencyStoreUnavailableException: 'function',
  PrincipalUnresolvedException: 'function',
  BodyNotFingerprintableException: 'function',
  IdempotencyStoreConnectionError: 'function',
  IdempotencyConfigurationError: 'function',
};

// Prints {name: typeof value} of every export of the loaded module as JSON.
const report = 'm => console.log(JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v]))))';
const LOADS = [
  ['import(file)', ['--input-type=module', '-e', `import(${JSON.stringify(pathToFileURL(entry).href)}).then(${report})`]],
  ['require(file)', ['--input-type=commonjs', '-e', `(${report})(require(${JSON.stringify(entry)}))`]],
  ['import(package name)', ['--input-type=module', '-e', `import(${JSON.stringify(pkg.name)}).then(${report})`]],
  ['require(package name)', ['--input-type=commonjs', '-e', `(${report})(require(${JSON.stringify(pkg.name)}))`]],
];

// The Redis store is a subpath of its own (it needs the optional peer ioredis only for its types).
const redisReport = `m => console.log(JSON.stringify({ RedisIdempotencyStore: typeof m.RedisIdempotencyStore }))`;
LOADS.push(
  ['import(package name/redis)', ['--input-type=module', '-e', `import(${JSON.stringify(`${pkg.name}/redis`)}).then(${redisReport})`]],
  ['require(package name/redis)', ['--input-type=commonjs', '-e', `(${redisReport})(require(${JSON.stringify(`${pkg.name}/redis`)}))`]],
);
const EXPECTED_REDIS = { RedisIdempotencyStore: 'function' };

const failures = [];
for (const target of [entry, join(root, pkg.exports['.'].default), join(root, pkg.exports['.'].types)]) {
  if (!existsSync(target)) failures.push(`missing ${target}: run \`npm run build\` first`);
}
if (failures.length === 0) {
  for (const [label, args] of LOADS) {
    // cwd is the package root, so the package name resolves to itself through its `exports`.
    const child = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', ...args], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (child.status !== 0) {
      failures.push(`${label} failed (exit ${child.status ?? child.signal}):\n${child.stderr.trim()}`);
      continue;
    }
    const exported = JSON.parse(child.stdout.trim().split('\n').at(-1));
    const wrong = Object.entries(label.includes('/redis') ? EXPECTED_REDIS : EXPECTED)
      .filter(([name, type]) => exported[name] !== type)
      .map(([name, type]) => `${name}: expected ${type}, got ${exported[name] ?? 'nothing'}`);
    if (wrong.length > 0) failures.push(`${label} exports are wrong:\n  ${wrong.join('\n  ')}`);
    else console.log(`ok  ${label}: ${Object.keys(exported).length} exports`);
  }
}

if (failures.length > 0) {
  console.error(`verify-dist (Node ${process.version}) FAILED:\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(`verify-dist: dist/ loads by import and require under Node ${process.version}`);
