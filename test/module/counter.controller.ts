import { Body, Controller, Module, Post } from '@nestjs/common';
import { Idempotent } from '../../lib/index.js';

/** One `@Idempotent()` route that counts its executions (per app). */
@Controller('counter')
export class CounterController {
  private calls = 0;

  @Post()
  @Idempotent()
  bump(@Body() body: unknown) {
    return { call: ++this.calls, body };
  }
}

/** Adds {@link CounterController} to an app. */
@Module({ controllers: [CounterController] })
export class CounterModule {}
