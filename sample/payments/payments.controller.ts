import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { toPaymentEvent } from './payment-event.js';
import { PaymentsService, type PaymentReceipt } from './payments.service.js';

/**
 * The payment provider's webhook. Not `@Idempotent()`: providers send no
 * Idempotency-Key header; the event id in the body is the key, and
 * `PaymentsService` uses it.
 */
@Controller('webhooks/payments')
export class PaymentsController {
  constructor(private readonly payments: PaymentsService) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  receive(@Body() body: unknown): Promise<PaymentReceipt> {
    return this.payments.handle(toPaymentEvent(body));
  }
}
