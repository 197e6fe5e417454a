// Node module customization hooks that run this repository's TypeScript
// directly in child processes (Jest compiles TypeScript only inside Jest).
// The swc settings of jest.config.js (tools/swc-options.js); registered by register-ts.mjs.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { URL, fileURLToPath } from 'node:url';
import swc from '@swc/core';
import { swcOptions as options } from '../../../tools/swc-options.js';

/** Sources import './x.js' (NodeNext): resolve it to './x.ts' when only that exists. */
export async function resolve(specifier, context, nextResolve) {
  if (context.parentURL?.endsWith('.ts') && /^\.{1,2}\//.test(specifier) && specifier.endsWith('.js')) {
    const js = new URL(specifier, context.parentURL);
    const ts = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
    if (!existsSync(js) && existsSync(ts)) return { url: ts.href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

/** Compiles `.ts` files to ES modules with swc. */
export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const { code } = await swc.transform(await readFile(path, 'utf8'), { ...options, filename: path });
  return { format: 'module', source: code, shortCircuit: true };
}
