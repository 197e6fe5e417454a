#!/usr/bin/env node
// Verifies that the build output (`npm run build` → dist/esm and dist/cjs)
// loads under plain Node, outside Jest and TypeScript, through the package
// name (`exports`), for every entry: `import` resolves to the ES modules of
// dist/esm, `require` to the CommonJS of dist/cjs (not Node's require(esm)),
// each with its exports; the declaration files named in package.json exist;
// and the core entry loads no optional peer in either format. Each load runs
// in a fresh `node` process. Usage: npm run build && npm run verify:dist
/* global process, console */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** The exports of each entry, and the runtime type of each. */
const EXPECTED = {
  '.': {
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
  },
  // The Redis store (it needs the optional peer ioredis only for its types).
  './redis': { RedisIdempotencyStore: 'function' },
  // Atomic mode through @nestjs-cls/transactional (optional peers nestjs-cls and @nestjs-cls/transactional).
  './cls': { ClsTransactionContext: 'function' },
  // The DynamoDB store (optional peer @aws-sdk/client-dynamodb).
  './dynamodb': { DynamoDbIdempotencyStore: 'function' },
};

/** Output folder and loader of each format, by `exports` condition. */
const FORMATS = {
  import: { folder: 'dist/esm/', inputType: 'module' },
  require: { folder: 'dist/cjs/', inputType: 'commonjs' },
};

const failures = [];

/** Runs `node -e source` in a fresh process (cwd the package root, so the package name resolves to itself); returns the parsed last line of stdout. */
function run(label, inputType, source) {
  const args = ['--disable-warning=ExperimentalWarning', `--input-type=${inputType}`, '-e', source];
  const child = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  if (child.status === 0) return JSON.parse(child.stdout.trim().split('\n').at(-1));
  failures.push(`${label} failed (exit ${child.status ?? child.signal}):\n${child.stderr.trim()}`);
  return undefined;
}

/**
 * A script that loads `specifier` by `condition` and prints the file it
 * resolved to, whether Node handed back an ES module namespace (`import`, or
 * `require(esm)`) or a CommonJS `module.exports`, and the type of each export.
 */
function loadScript(condition, specifier) {
  const name = JSON.stringify(specifier);
  const report = (file) =>
    `console.log(JSON.stringify({ file: ${file}, namespace: Object.prototype.toString.call(m) === '[object Module]', ` +
    'exports: Object.fromEntries(Object.keys(m).map((k) => [k, typeof m[k]])) }))';
  return condition === 'import'
    ? `const m = await import(${name}); ${report(`(await import('node:url')).fileURLToPath(import.meta.resolve(${name}))`)}`
    : `const m = require(${name}); ${report(`require.resolve(${name})`)}`;
}

// Each entry, by each condition: the right file, the right module system, the right exports.
const entries = Object.keys(pkg.exports).filter((entry) => entry !== './package.json');
for (const entry of entries) {
  const specifier = entry === '.' ? pkg.name : `${pkg.name}${entry.slice(1)}`;
  for (const [condition, { folder, inputType }] of Object.entries(FORMATS)) {
    const target = pkg.exports[entry][condition];
    const label = `${condition}(${specifier})`;
    if (!target) {
      failures.push(`package.json exports["${entry}"] has no "${condition}" condition`);
      continue;
    }
    for (const file of [target.default, target.types]) {
      if (!file?.startsWith(`./${folder}`)) failures.push(`${label}: ${file} is not in ${folder}`);
      else if (!existsSync(join(root, file))) failures.push(`${label}: missing ${file}: run \`npm run build\` first`);
    }
    const loaded = run(label, inputType, loadScript(condition, specifier));
    if (!loaded) continue;
    const problems = [];
    if (loaded.file !== join(root, target.default)) problems.push(`resolved to ${loaded.file}, expected ${target.default}`);
    if (condition === 'require' && loaded.namespace) problems.push('came back as an ES module namespace (require(esm)), not CommonJS');
    for (const [name, type] of Object.entries(EXPECTED[entry] ?? {})) {
      if (loaded.exports[name] !== type) problems.push(`${name}: expected ${type}, got ${loaded.exports[name] ?? 'nothing'}`);
    }
    if (!EXPECTED[entry]) problems.push(`no expected exports listed for "${entry}" in scripts/verify-dist.mjs`);
    if (problems.length > 0) failures.push(`${label}:\n  ${problems.join('\n  ')}`);
    else console.log(`ok  ${label} → ${target.default}: ${Object.keys(loaded.exports).length} exports`);
  }
}

// Declarations for TypeScript resolvers that ignore `exports` (moduleResolution node10).
for (const file of [pkg.types, ...Object.values(pkg.typesVersions?.['*'] ?? {}).flat()]) {
  if (!existsSync(join(root, file))) failures.push(`package.json names ${file}, which does not exist`);
}
if (!existsSync(join(root, pkg.main))) failures.push(`package.json "main" names ${pkg.main}, which does not exist`);

// The core entry loads no optional peer: every specifier it imports or
// requires (a resolve hook, a wrapped Module._load) and every CommonJS file
// it loaded (require.cache), in either format.
const OPTIONAL_PEERS = Object.entries(pkg.peerDependenciesMeta ?? {}).filter(([, meta]) => meta.optional).map(([peer]) => peer);
/** Source of `(specifiers) => the optional peers among those specifiers or loaded file paths`. */
const peersAmong = `(loaded) => [...new Set(${JSON.stringify(OPTIONAL_PEERS)}.filter((peer) =>
  loaded.some((s) => s === peer || s.startsWith(peer + '/') || s.includes('/node_modules/' + peer + '/'))))]`;
const RESOLVE_HOOK = `let port;
export function initialize(data) { port = data.port; port.on('message', () => port.postMessage(null)); }
export async function resolve(specifier, context, next) { port.postMessage(specifier); return next(specifier, context); }`;
const PEER_CHECKS = {
  import: `import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const seen = new Set();
const flushed = new Promise((done) => port1.on('message', (specifier) => (specifier === null ? done() : seen.add(specifier))));
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(RESOLVE_HOOK)}), { data: { port: port2 }, transferList: [port2] });
await import(${JSON.stringify(pkg.name)});
port1.postMessage('flush');
await flushed;
port1.close();
const loaded = [...seen, ...Object.keys(createRequire(import.meta.url).cache)];
console.log(JSON.stringify((${peersAmong})(loaded)));`,
  require: `const Module = require('node:module');
const seen = new Set();
const load = Module._load;
Module._load = function (request, ...rest) { seen.add(request); return load.call(this, request, ...rest); };
require(${JSON.stringify(pkg.name)});
const loaded = [...seen, ...Object.keys(require.cache)];
console.log(JSON.stringify((${peersAmong})(loaded)));`,
};
for (const [condition, { inputType }] of Object.entries(FORMATS)) {
  const label = `${condition}(${pkg.name}) loads no optional peer`;
  const loaded = run(label, inputType, PEER_CHECKS[condition]);
  if (loaded?.length > 0) failures.push(`${label}: it loaded\n  ${loaded.join('\n  ')}`);
  else if (loaded) console.log(`ok  ${label} (${OPTIONAL_PEERS.join(', ')})`);
}

if (failures.length > 0) {
  console.error(`verify-dist (Node ${process.version}) FAILED:\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(`verify-dist: dist/esm loads by import and dist/cjs by require under Node ${process.version}`);
