import { jest } from '@jest/globals';

/**
 * Mercurius require()s @fastify/static (for its GraphiQL page) at load time,
 * and @fastify/static require()s the ESM-only content-disposition@3, which
 * Jest's CommonJS runtime cannot load on Node < 24.9 ("Must use import to load
 * ES Module"). The apps here run without GraphiQL, so that plugin is never
 * registered: a stand-in lets Mercurius load. Import this module before
 * anything that loads Mercurius. (The lasting fix is a transform of
 * content-disposition in jest.config.js, as done there for cookie.)
 */
jest.mock('@fastify/static', () => {
  const unusedPlugin = () => {
    throw new Error('@fastify/static is stubbed in the GraphQL tests: run Mercurius without GraphiQL');
  };
  return { __esModule: true, default: unusedPlugin, fastifyStatic: unusedPlugin };
});
