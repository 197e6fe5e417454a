import type { ExecutionContext } from '@nestjs/common';
import { RmqContext } from '@nestjs/microservices';
import type { Settlement } from '../interceptors/handler-transport.js';

/** The part of an amqplib channel that settles a delivery. */
interface AmqpChannel {
  ack(message: unknown): void;
  nack(message: unknown, allUpTo?: boolean, requeue?: boolean): void;
}

/**
 * Settles a RabbitMQ delivery (manual acknowledgements) that was answered
 * without its handler: an answer is acknowledged; a retry-later is requeued
 * after `retryAfterSeconds` (held unacknowledged meanwhile, so it is not
 * redelivered at once; a consumer that stops first hands it back to the
 * broker all the same); a refusal is rejected without requeue (to the
 * queue's dead-letter exchange, if it has one). Other transports: nothing.
 */
export function acknowledge(context: ExecutionContext, settlement: Settlement, retryAfterSeconds: number): void {
  const rmq: unknown = context.getArgByIndex(1);
  if (!(rmq instanceof RmqContext)) return;
  const channel = rmq.getChannelRef() as AmqpChannel;
  const message = rmq.getMessage();
  if (settlement === 'answered') return settleOn(() => channel.ack(message));
  if (settlement === 'refused') return settleOn(() => channel.nack(message, false, false));
  setTimeout(() => settleOn(() => channel.nack(message, false, true)), retryAfterSeconds * 1000).unref();
}

/** Settles on the delivery's channel; a closed channel has handed the delivery back to the broker already. */
function settleOn(settle: () => void): void {
  try {
    settle();
  } catch {
    // IllegalOperationError: Channel closed. Nothing to settle.
  }
}
