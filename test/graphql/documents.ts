/** The GraphQL documents the tests send (see orders.resolver.ts). */

export const CREATE = `mutation Create($input: OrderInput!) {
  createOrder(input: $input) { execution ref item qty label placedAt }
}`;

export const SLOW = `mutation Slow($input: OrderInput!) {
  slowOrder(input: $input) { execution ref }
}`;

export const WAITING = `mutation Waiting($input: OrderInput!) {
  waitingOrder(input: $input) { execution ref }
}`;

export const FAILING = `mutation Failing($input: OrderInput!) {
  failingOrder(input: $input) { execution }
}`;

/** Two different mutation fields in one document. */
export const CREATE_AND_CANCEL = `mutation Both($input: OrderInput!, $ref: String!) {
  createOrder(input: $input) { execution ref }
  cancelOrder(ref: $ref, reason: "changed mind") { execution ref reason }
}`;

/** The same mutation field twice, under two aliases. */
export const CREATE_TWICE = `mutation Twice($first: OrderInput!, $second: OrderInput!) {
  first: createOrder(input: $first) { execution item }
  second: createOrder(input: $second) { execution item }
}`;

export const PLACE = `mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { execution ref item label }
}`;
