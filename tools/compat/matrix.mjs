// The apps of the compatibility suite: the shapes of our users' apps, each a
// Nest major with its module system, an HTTP adapter and a store.

/**
 * What a user of each Nest major has in package.json, and how that app is compiled.
 * Nest 12 is ESM only; Nest 11 apps are CommonJS as `nest new` 11 writes them
 * (TypeScript 5.x: `module: commonjs` is deprecated in TypeScript 6).
 */
export const NEST_MAJORS = {
  12: {
    moduleSystem: 'esm',
    dependencies: {
      '@nestjs/common': '^12.0.0',
      '@nestjs/core': '^12.0.0',
      'reflect-metadata': '^0.2.2',
      rxjs: '^7.8.1',
    },
    // What the TypeORM store's apps add (stores.mjs); the other apps get these peers from npm.
    typeorm: { '@nestjs/typeorm': '^12.0.0', typeorm: '^1.0.0' },
    adapters: { express: { '@nestjs/platform-express': '^12.0.0' }, fastify: { '@nestjs/platform-fastify': '^12.0.0' } },
    devDependencies: { typescript: '~6.0.3', '@types/node': '^22.0.0' },
    // Extra `module` settings the app is type-checked under (none: nodenext is its own).
    otherModuleSettings: [],
  },
  11: {
    moduleSystem: 'cjs',
    dependencies: {
      '@nestjs/common': '^11.0.0',
      '@nestjs/core': '^11.0.0',
      'reflect-metadata': '^0.2.2',
      rxjs: '^7.8.1',
    },
    typeorm: { '@nestjs/typeorm': '^11.0.0', typeorm: '^0.3.28' },
    adapters: { express: { '@nestjs/platform-express': '^11.0.0' }, fastify: { '@nestjs/platform-fastify': '^11.0.0' } },
    devDependencies: { typescript: '^5.8.0', '@types/node': '^22.0.0' },
    // A CommonJS app that moves to Node's module settings must still compile against the package.
    otherModuleSettings: ['node16', 'nodenext'],
  },
};

/** The apps, in the order they are reported. A store other than `typeorm` is named in the app's name. */
export const APPS = [
  app(12, 'express'),
  app(12, 'fastify'),
  app(11, 'express'),
  app(11, 'fastify'),
  app(12, 'express', 'dynamodb'),
];

/** One app of the matrix: `nest<major>-<module system>-<adapter>[-<store>]`. */
export function app(nest, adapter, store = 'typeorm') {
  const { moduleSystem } = NEST_MAJORS[nest];
  const suffix = store === 'typeorm' ? '' : `-${store}`;
  return { name: `nest${nest}-${moduleSystem}-${adapter}${suffix}`, nest, moduleSystem, adapter, store };
}

/**
 * The type checks (`tsc --noEmit` with these arguments) an app gets beside its
 * own compile. The app compiles with `skipLibCheck`, as `nest new` sets it, so a
 * type of ours that this Nest or TypeORM lacks would quietly turn into `any`:
 * one check reads every declaration file, ours among them.
 */
export function typeChecksOf(app) {
  return [
    { check: 'type-check declarations (skipLibCheck false)', args: ['--skipLibCheck', 'false'] },
    ...NEST_MAJORS[app.nest].otherModuleSettings.map((module) => ({
      check: `type-check with module ${module}`,
      args: ['--module', module, '--moduleResolution', module],
    })),
  ];
}
