import { Args, Field, Int, Mutation, ObjectType, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Idempotent } from '../../lib/index.js';
import { Executions } from '../fixtures/executions.js';

@ObjectType()
export class Shipment {
  @Field(() => Int)
  execution!: number;

  @Field()
  ref!: string;

  /** Resolved by `ShipmentsResolver.tracking`. */
  @Field()
  tracking?: string;
}

/**
 * `@Idempotent()` on the resolver class: it covers the class's mutations,
 * not its queries nor its field resolvers. Runs are rows of `executions`
 * under `ship <ref>`.
 */
@Resolver(() => Shipment)
@Idempotent()
export class ShipmentsResolver {
  constructor(private readonly executions: Executions) {}

  @Mutation(() => Shipment)
  async ship(@Args('ref') ref: string): Promise<Shipment> {
    return { execution: await this.executions.record(`ship ${ref}`), ref };
  }

  @Query(() => Int)
  shipments(@Args('ref') ref: string): Promise<number> {
    return this.executions.count(`ship ${ref}`);
  }

  @ResolveField(() => String)
  tracking(@Parent() shipment: Shipment): string {
    return `T-${shipment.execution}`;
  }
}
