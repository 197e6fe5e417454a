// Writes one app of the matrix into a folder: package.json with the versions a
// user of that Nest major has, the tsconfig `nest new` gives it, and the
// sources from template/.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NEST_MAJORS } from './matrix.mjs';
import { STORES } from './stores.mjs';

// The sources are `.ts.tpl`, not `.ts`: the checkout's tsconfig and eslint would take them for its own
// sources and resolve them against the checkout's packages, not the app's.
const TEMPLATE = join(dirname(fileURLToPath(import.meta.url)), 'template');

/** Where each template file goes in the app; the platform and the store are the app's variants. */
function sourcesOf(app) {
  return {
    'src/main.ts.tpl': 'src/main.ts',
    'src/app.module.ts.tpl': 'src/app.module.ts',
    'src/hold-gate.ts.tpl': 'src/hold-gate.ts',
    'src/orders.controller.ts.tpl': 'src/orders.controller.ts',
    [`src/platform/${app.adapter}.ts.tpl`]: 'src/platform.ts',
    [`src/store/${app.store}.ts.tpl`]: 'src/idempotency-setup.ts',
  };
}

/** The app's package.json: its Nest major's packages, its adapter, its store's driver, and the packed tarball. */
export function packageJsonOf(app, tarball) {
  const major = NEST_MAJORS[app.nest];
  return {
    name: app.name,
    version: '0.0.0',
    private: true,
    ...(app.moduleSystem === 'esm' ? { type: 'module' } : {}),
    scripts: { build: 'tsc -p tsconfig.json', start: 'node dist/main.js' },
    dependencies: sortedByName({
      ...major.dependencies,
      ...major.adapters[app.adapter],
      ...STORES[app.store].dependencies(app.nest),
      'nestjs-idempotency': `file:${tarball}`,
    }),
    devDependencies: sortedByName(major.devDependencies),
  };
}

/** Writes `app` into `dir` (created), depending on the package at `tarball`. */
export async function generateApp(app, dir, tarball) {
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(packageJsonOf(app, tarball), null, 2)}\n`);
  await copyFile(join(TEMPLATE, `tsconfig.${app.moduleSystem}.json`), join(dir, 'tsconfig.json'));
  for (const [from, to] of Object.entries(sourcesOf(app))) {
    const source = await readFile(join(TEMPLATE, from), 'utf8');
    await writeFile(join(dir, to), app.moduleSystem === 'cjs' ? asCommonJsApp(source) : source);
  }
}

/**
 * The templates are written as an ESM app writes them (`./x.js`); a CommonJS
 * app as `nest new` writes it imports its own files without the extension.
 */
function asCommonJsApp(source) {
  return source.replace(/(from '\.{1,2}\/[^']*)\.js'/g, "$1'");
}

function sortedByName(record) {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
