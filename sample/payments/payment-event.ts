import { BadRequestException } from '@nestjs/common';

/** A payment provider's webhook event: `id` is unique per event, and stays the same on redelivery. */
export interface PaymentEvent {
  id: string;
  orderId: number;
  /** In cents. */
  amount: number;
}

/**
 * Checks the body of `POST /webhooks/payments`.
 * @throws BadRequestException naming the field to fix.
 */
export function toPaymentEvent(body: unknown): PaymentEvent {
  const { id, orderId, amount } = (body ?? {}) as Record<string, unknown>;
  if (typeof id !== 'string' || id.length === 0) throw new BadRequestException('id must be a non-empty string');
  if (typeof orderId !== 'number' || !Number.isInteger(orderId)) throw new BadRequestException('orderId must be an integer');
  if (typeof amount !== 'number' || !Number.isInteger(amount) || amount < 1) {
    throw new BadRequestException('amount must be a positive integer (cents)');
  }
  return { id, orderId, amount };
}
