import { describe } from '@jest/globals';
import { describeGraphqlReplays } from './graphql-cases.js';
import { useGraphqlApp } from './graphql-harness.js';
import { describeGraphqlRefusals } from './graphql-refusals.js';
import { describeGraphqlStartup } from './graphql-startup.js';

describe('@Idempotent() on GraphQL mutations: Apollo (Express)', () => {
  const harness = useGraphqlApp('apollo');
  describeGraphqlReplays(harness);
  describeGraphqlRefusals(harness, () => 200);
  describeGraphqlStartup('apollo');
});
