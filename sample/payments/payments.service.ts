import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { IdempotencyService } from '../../lib/index.js';
import { OrdersService } from '../orders/orders.service.js';
import type { PaymentEvent } from './payment-event.js';

/** What the webhook answers; a redelivery gets the first delivery's answer. */
export interface PaymentReceipt {
  event: string;
  orderId: number;
  amountPaid: number;
}

/**
 * Applies payment events exactly once per event id, however often the
 * provider delivers them: `IdempotencyService.execute()` outside any
 * decorated route, as a queue consumer would use it. Atomic: the payment and
 * the idempotency record commit in one transaction, so a crash between them
 * can neither lose the payment nor apply it twice.
 */
@Injectable()
export class PaymentsService {
  private readonly logger = new Logger(PaymentsService.name);

  constructor(
    private readonly idempotency: IdempotencyService,
    private readonly orders: OrdersService,
  ) {}

  /**
   * @throws IdempotencyKeyInFlightException (409) while the same event is being applied.
   * @throws IdempotencyKeyReusedException (422) when an event id comes back with another payload.
   */
  handle(event: PaymentEvent): Promise<PaymentReceipt> {
    // The same event id with another order or amount is a provider bug, not a redelivery.
    const fingerprint = createHash('sha256').update(JSON.stringify([event.orderId, event.amount])).digest('hex');
    return this.idempotency.execute(event.id, (manager) => this.apply(manager, event), {
      scope: 'payment-webhook',
      fingerprint,
      atomic: true,
    });
  }

  private async apply(manager: EntityManager, event: PaymentEvent): Promise<PaymentReceipt> {
    const order = await this.orders.addPayment(manager, event.orderId, event.amount);
    this.logger.log(`Applied payment ${event.id}: +${event.amount} to order ${order.id} (paid ${order.amountPaid})`);
    return { event: event.id, orderId: order.id, amountPaid: order.amountPaid };
  }
}
