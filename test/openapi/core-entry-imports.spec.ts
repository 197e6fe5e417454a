import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIB = resolve(dirname(fileURLToPath(import.meta.url)), '../../lib');

/** Static `import`/`export ... from` specifiers of a source file, `import type` included (it lands in the emitted .d.ts). */
function staticImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm)].map(
    (match) => match[1] ?? match[2],
  );
}

/** Every file of lib/ that loading `entry` loads, with the packages each imports. */
function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (graph.has(file)) continue;
    const specifiers = staticImports(file);
    graph.set(file, specifiers.filter((specifier) => !specifier.startsWith('.')));
    for (const specifier of specifiers.filter((s) => s.startsWith('.'))) {
      pending.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
    }
  }
  return graph;
}

describe('core entry and @nestjs/swagger', () => {
  it('loads the OpenAPI documentation of routes, but never @nestjs/swagger (an optional peer)', () => {
    const graph = importGraph(resolve(LIB, 'index.ts'));
    expect(graph.has(resolve(LIB, 'openapi/idempotency-openapi.ts'))).toBe(true);
    const importers = [...graph].filter(([, packages]) => packages.some((name) => name.startsWith('@nestjs/swagger')));
    expect(importers.map(([file]) => file)).toEqual([]);
  });
});
