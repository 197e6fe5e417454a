import { Field, InputType, Int, ObjectType } from '@nestjs/graphql';

/** What `createOrder` and `slowOrder` take. `ref` names the test's rows in `executions`. */
@InputType()
export class OrderInput {
  @Field()
  ref!: string;

  @Field()
  item!: string;

  @Field(() => Int)
  qty!: number;
}

/** What `placeOrder` takes: the client's own request id is the idempotency key. */
@InputType()
export class PlaceOrderInput {
  @Field()
  requestId!: string;

  @Field()
  ref!: string;

  @Field()
  item!: string;
}

@ObjectType()
export class Order {
  /** The id of the `executions` row the resolver inserted. */
  @Field(() => Int)
  execution!: number;

  @Field()
  ref!: string;

  @Field()
  item!: string;

  @Field(() => Int)
  qty!: number;

  /** Resolved by `OrdersResolver.label`, on a replay too. */
  @Field()
  label?: string;

  /** A `Date`: the DateTime scalar serializes only a Date, so a replay must give one back. */
  @Field({ nullable: true })
  placedAt?: Date;
}

@ObjectType()
export class Cancellation {
  @Field(() => Int)
  execution!: number;

  @Field()
  ref!: string;

  @Field()
  reason!: string;
}
