import { ConflictException } from '@nestjs/common';
import { Args, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Idempotent } from '../../lib/index.js';
import { Executions } from '../fixtures/executions.js';
import { Gates } from '../fixtures/gates.js';
import { Cancellation, Order, OrderInput, PlaceOrderInput } from './orders.types.js';

/**
 * The mutations the GraphQL tests call. Each inserts a row into `executions`
 * under `<field> <ref>`, so a test counts the runs of its own `ref` in the table.
 */
@Resolver(() => Order)
export class OrdersResolver {
  constructor(
    private readonly executions: Executions,
    private readonly gates: Gates,
  ) {}

  /** A schema needs a query type. */
  @Query(() => String)
  ping(): string {
    return 'pong';
  }

  @Mutation(() => Order)
  @Idempotent()
  async createOrder(@Args('input') input: OrderInput): Promise<Order> {
    return { execution: await this.executions.record(`createOrder ${input.ref}`), ...input, placedAt: new Date() };
  }

  /** Held at the gate named `input.ref` until the test opens it; a duplicate answers at once (`wait: 0`). */
  @Mutation(() => Order)
  @Idempotent({ wait: 0 })
  async slowOrder(@Args('input') input: OrderInput): Promise<Order> {
    await this.gates.of(input.ref).pass();
    return { execution: await this.executions.record(`slowOrder ${input.ref}`), ...input };
  }

  /** Held like `slowOrder`, but a duplicate waits up to 10 s for its outcome. */
  @Mutation(() => Order)
  @Idempotent({ wait: 10_000 })
  async waitingOrder(@Args('input') input: OrderInput): Promise<Order> {
    await this.gates.of(input.ref).pass();
    return { execution: await this.executions.record(`waitingOrder ${input.ref}`), ...input };
  }

  /** Runs (a row), then fails. */
  @Mutation(() => Order)
  @Idempotent()
  async failingOrder(@Args('input') input: OrderInput): Promise<Order> {
    const execution = await this.executions.record(`failingOrder ${input.ref}`);
    throw new ConflictException(`out of stock (execution ${execution})`);
  }

  @Mutation(() => Cancellation)
  @Idempotent()
  async cancelOrder(@Args('ref') ref: string, @Args('reason') reason: string): Promise<Cancellation> {
    return { execution: await this.executions.record(`cancelOrder ${ref}`), ref, reason };
  }

  /** Keyed by an argument: no header needed. */
  @Mutation(() => Order)
  @Idempotent({ key: (args: { input: PlaceOrderInput }) => args.input.requestId })
  async placeOrder(@Args('input') input: PlaceOrderInput): Promise<Order> {
    const { ref, item } = input;
    return { execution: await this.executions.record(`placeOrder ${ref}`), ref, item, qty: 1 };
  }

  @ResolveField(() => String)
  label(@Parent() order: Order): string {
    return `${order.qty} x ${order.item}`;
  }
}
