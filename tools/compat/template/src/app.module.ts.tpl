import { Module } from '@nestjs/common';
import { HoldGate } from './hold-gate.js';
import { idempotencyImports } from './idempotency-setup.js';
import { OrdersController } from './orders.controller.js';

@Module({
  imports: [...idempotencyImports],
  controllers: [OrdersController],
  providers: [HoldGate],
})
export class AppModule {}
