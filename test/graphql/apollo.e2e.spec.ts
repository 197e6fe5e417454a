import { describe } from '@jest/globals';
import { describeGraphqlReplays } from './graphql-cases.js';
import { describeGraphqlClassLevel } from './graphql-class-level.js';
import { useGraphqlApp } from './graphql-harness.js';
import { describeGraphqlLifecycle } from './graphql-lifecycle.js';
import { ALWAYS_200, describeGraphqlRefusals, REFUSAL_STATUS } from './graphql-refusals.js';
import { describeGraphqlStartup } from './graphql-startup.js';

describe('@Idempotent() on GraphQL mutations: Apollo (Express)', () => {
  const harness = useGraphqlApp('apollo');
  describeGraphqlReplays(harness);
  // Apollo Server 5 would answer with the refusal's extensions.http.status, but
  // @nestjs/apollo's preserveHttpStatusForExecutionErrors (on by default) sets
  // 200 on every response that has `data`, and a refused mutation has `data: null`.
  describeGraphqlRefusals(harness, ALWAYS_200);
  describeGraphqlLifecycle(harness);
  describeGraphqlClassLevel(harness);
  describeGraphqlStartup('apollo');
});

describe('@Idempotent() on GraphQL mutations: Apollo (Express), preserveHttpStatusForExecutionErrors: false', () => {
  const harness = useGraphqlApp('apollo', { apollo: { preserveHttpStatusForExecutionErrors: false } });
  describeGraphqlRefusals(harness, REFUSAL_STATUS);
});
