#!/usr/bin/env node
// Builds the package twice from lib/: ES modules into dist/esm
// (tsconfig.build.json) and CommonJS into dist/cjs (tsconfig.build-cjs.json),
// each folder marked with its module format, so `import` and `require` each
// load their own copy (package.json `exports`). Usage: npm run build
/* global process, console */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** Output folder, tsconfig and the `type` its package.json declares. */
const FORMATS = [
  { outDir: 'dist/esm', tsconfig: 'tsconfig.build.json', type: 'module' },
  { outDir: 'dist/cjs', tsconfig: 'tsconfig.build-cjs.json', type: 'commonjs' },
];

rmSync(join(root, 'dist'), { recursive: true, force: true });
for (const { outDir, tsconfig, type } of FORMATS) {
  const child = spawnSync(process.execPath, [tsc, '-p', tsconfig], { cwd: root, stdio: 'inherit' });
  if (child.status !== 0) process.exit(child.status ?? 1);
  mkdirSync(join(root, outDir), { recursive: true });
  // Node and TypeScript read a file's format from the nearest package.json.
  writeFileSync(join(root, outDir, 'package.json'), `${JSON.stringify({ type }, null, 2)}\n`);
  console.log(`built ${outDir} (${type})`);
}
