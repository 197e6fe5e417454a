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

// Subpath entries and their exports. Each needs optional peers that the core entry never loads.
const SUBPATHS = {
  // The Redis store (it needs the optional peer ioredis only for its types).
  '/redis': { RedisIdempotencyStore: 'function' },
  // Atomic mode through @nestjs-cls/transactional (optional peers nestjs-cls and @nestjs-cls/transactional).
  '/cls': { ClsTransactionContext: 'function' },
};
for (const [subpath, expected] of Object.entries(SUBPATHS)) {
  const name = JSON.stringify(`${pkg.name}${subpath}`);
  const subReport = `m => console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(Object.keys(expected))}.map((k) => [k, typeof m[k]]))))`;
  LOADS.push(
    [`import(package name${subpath})`, ['--input-type=module', '-e', `import(${name}).then(${subReport})`]],
    [`require(package name${subpath})`, ['--input-type=commonjs', '-e', `(${subReport})(require(${name}))`]],
  );
}
const expectedExports = (label) => SUBPATHS[Object.keys(SUBPATHS).find((subpath) => label.endsWith(`${subpath})`))] ?? EXPECTED;

// The optional peers are CommonJS: whichever the core entry loaded would be in require.cache.
const OPTIONAL_PEERS = Object.entries(pkg.peerDependenciesMeta ?? {}).filter(([, meta]) => meta.optional).map(([peer]) => peer);
const PEERS_LOADED = `console.log(JSON.stringify(Object.keys(require.cache).filter((file) => ${JSON.stringify(OPTIONAL_PEERS)}.some((peer) => file.includes('/node_modules/' + peer + '/')))))`;

const failures = [];
for (const target of [entry, join(root, pkg.exports['.'].default), join(root, pkg.exports['.'].types)]) {
  if (!existsSync(target)) failures.push(`missing ${target}: run \`npm run build\` first`);
}
/** Runs `node args` in a fresh process (cwd the package root, so the package name resolves to itself); returns the last line of stdout. */
function run(label, args) {
  const child = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  if (child.status === 0) return child.stdout.trim().split('\n').at(-1);
  failures.push(`${label} failed (exit ${child.status ?? child.signal}):\n${child.stderr.trim()}`);
  return undefined;
}
if (failures.length === 0) {
  for (const [label, args] of LOADS) {
    const output = run(label, args);
    if (output === undefined) continue;
    const exported = JSON.parse(output);
    const wrong = Object.entries(expectedExports(label))
      .filter(([name, type]) => exported[name] !== type)
      .map(([name, type]) => `${name}: expected ${type}, got ${exported[name] ?? 'nothing'}`);
    if (wrong.length > 0) failures.push(`${label} exports are wrong:\n  ${wrong.join('\n  ')}`);
    else console.log(`ok  ${label}: ${Object.keys(exported).length} exports`);
  }
  const label = 'require(package name) loads no optional peer';
  const output = run(label, ['--input-type=commonjs', '-e', `require(${JSON.stringify(pkg.name)}); ${PEERS_LOADED}`]);
  const loaded = output === undefined ? [] : JSON.parse(output);
  if (loaded.length > 0) failures.push(`${label}: it loaded\n  ${loaded.join('\n  ')}`);
  else if (output !== undefined) console.log(`ok  ${label} (${OPTIONAL_PEERS.join(', ')})`);
}

if (failures.length > 0) {
  console.error(`verify-dist (Node ${process.version}) FAILED:\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(`verify-dist: dist/ loads by import and require under Node ${process.version}`);
