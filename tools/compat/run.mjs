#!/usr/bin/env node
// The compatibility suite: packs the package (build it first: `npm run build`)
// and proves that it installs, compiles, boots and answers in fresh apps
// shaped like our users' (matrix.mjs), on Node 22.
//
//   npm run compat                      every app
//   node tools/compat/run.mjs nest11    the apps whose name contains one of the words
//   COMPAT_KEEP=1 npm run compat        keep the temp folder (apps, logs) when a check fails
//   COMPAT_NODE=24 npm run compat       the apps on another Node major
//   COMPAT_TARBALL=x.tgz npm run compat the apps with that tarball instead of packing the checkout
//   COMPAT_PREFER_OFFLINE=1 npm run compat  npm install --prefer-offline (no registry round trips for cached packages)
//
// The suite runs on that Node: from another one, it installs it from the npm
// registry into a cache (see tools/node-runtime.mjs) and runs itself again there.
/* global process */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { envWith, installNode } from '../node-runtime.mjs';

const NODE_MAJOR = process.env.COMPAT_NODE ?? '22';

if (process.versions.node.split('.')[0] !== NODE_MAJOR) {
  const home = installNode(NODE_MAJOR);
  const self = fileURLToPath(import.meta.url);
  const result = spawnSync(join(home, 'bin', 'node'), [self, ...process.argv.slice(2)], { stdio: 'inherit', env: envWith(home) });
  process.exit(result.status ?? 1);
} else {
  const { main } = await import('./suite.mjs');
  process.exitCode = await main(process.argv.slice(2));
}
