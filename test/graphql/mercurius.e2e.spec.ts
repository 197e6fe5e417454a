import { describe } from '@jest/globals';
import { describeGraphqlReplays } from './graphql-cases.js';
import { useGraphqlApp } from './graphql-harness.js';
import { describeGraphqlRefusals } from './graphql-refusals.js';
import { describeGraphqlStartup } from './graphql-startup.js';

describe('@Idempotent() on GraphQL mutations: Mercurius (Fastify)', () => {
  const harness = useGraphqlApp('mercurius');
  describeGraphqlReplays(harness);
  describeGraphqlRefusals(harness, () => 200);
  describeGraphqlStartup('mercurius');
});
