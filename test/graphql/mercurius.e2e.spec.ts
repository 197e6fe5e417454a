import { describe } from '@jest/globals';
import { describeGraphqlReplays } from './graphql-cases.js';
import { describeGraphqlClassLevel } from './graphql-class-level.js';
import { useGraphqlApp } from './graphql-harness.js';
import { describeGraphqlLifecycle } from './graphql-lifecycle.js';
import { describeGraphqlRefusals, REFUSAL_STATUS } from './graphql-refusals.js';
import { describeGraphqlStartup } from './graphql-startup.js';

describe('@Idempotent() on GraphQL mutations: Mercurius (Fastify)', () => {
  const harness = useGraphqlApp('mercurius');
  describeGraphqlReplays(harness);
  // Mercurius ignores extensions.http; it takes the HTTP status from the error's
  // `statusCode` property (one error, no data), which the refusals do not set.
  describeGraphqlRefusals(harness, REFUSAL_STATUS);
  describeGraphqlLifecycle(harness);
  describeGraphqlClassLevel(harness);
  describeGraphqlStartup('mercurius');
});
