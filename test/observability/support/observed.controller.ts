import { Body, Controller, Param, Post, RequestTimeoutException, ServiceUnavailableException } from '@nestjs/common';
import { Idempotent } from '../../../lib/index.js';
import { Gates } from '../../fixtures/gates.js';

/** Routes for each decision the HTTP transport can lead to. The principal is the `x-user` header. */
@Controller()
@Idempotent({ principal: (context) => context.switchToHttp().getRequest().headers['x-user'] })
export class ObservedController {
  private readonly arrivals = new Map<string, number>();

  constructor(private readonly gates: Gates) {}

  @Post('orders')
  create(@Body() body: Record<string, unknown>) {
    return { created: body };
  }

  /** Its n-th call (since the test began) waits at the gate `<name>-<n>`. */
  @Post('slow/:name')
  async slow(@Param('name') name: string) {
    const arrival = (this.arrivals.get(name) ?? 0) + 1;
    this.arrivals.set(name, arrival);
    await this.gates.of(`${name}-${arrival}`).pass();
    return { arrival };
  }

  @Post('unavailable')
  unavailable() {
    throw new ServiceUnavailableException('try later');
  }

  /** A timeout while the work may still run: its outcome is in doubt. */
  @Post('timeout')
  timeout() {
    throw new RequestTimeoutException();
  }

  @Post('big')
  @Idempotent({ maxResponseBytes: 10 })
  big() {
    return { data: 'x'.repeat(100) };
  }

  @Post('fail-open')
  @Idempotent({ failOpen: true })
  failOpen() {
    return { ran: true };
  }
}
