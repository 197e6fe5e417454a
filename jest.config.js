/* global process, console */
// Jest runs in native ESM mode (see the `test` script: --experimental-vm-modules).
// TypeScript is compiled by @swc/jest; type checking is `npm run typecheck`.

import { swcOptions as swc } from './tools/swc-options.js';
import { absentServices } from './tools/test-services.js';

// ESM-only packages that CommonJS dependencies require(): compiled to CommonJS for Jest (see `transform`).
const ESM_ONLY = '/node_modules/(?:(?:light-my-request/node_modules/)?cookie|@fastify/static/node_modules/content-disposition)/';

// Suites of a server that is not running are left out locally, with a line
// that says so; under CI they run, and fail, so a missing server is never green.
const notRun = [];
const onCi = !!process.env.CI && !['false', '0'].includes(process.env.CI);
if (!onCi) {
  for (const service of await absentServices()) {
    console.log(`not run: no ${service.name} server at ${service.label} (${service.hint})`);
    notRun.push(service.files);
  }
}

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.spec.ts', '<rootDir>/lib/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...notRun],
  modulePathIgnorePatterns: ['<rootDir>/dist', '<rootDir>/dist-sample', '<rootDir>/dist-bench', '<rootDir>/.data'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', swc],
    // Fastify's app.inject() (light-my-request) require()s the ESM-only cookie@2,
    // and Mercurius require()s @fastify/static, which require()s the ESM-only
    // content-disposition@3: Jest's CommonJS runtime cannot load them on Node < 24.9
    // ("Must use import to load ES Module"), so they are compiled to CommonJS.
    [ESM_ONLY + '.+\\.js$']: ['@swc/jest', { module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`^(?!.*${ESM_ONLY}).*/node_modules/`],
  extensionsToTreatAsEsm: ['.ts'],
  // Sources import './x.js' (NodeNext); Jest must find './x.ts'.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 30_000,
};
