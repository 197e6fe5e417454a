import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps what is logged in the `Idempotency` context, by level. */
export class CapturingLogger implements LoggerService {
  readonly debugLines: string[] = [];
  readonly errors: { message: unknown; params: unknown[] }[] = [];

  log(): void {}
  warn(): void {}
  verbose(): void {}

  debug(message: unknown, ...params: unknown[]): void {
    if (params.at(-1) === 'Idempotency') this.debugLines.push(String(message));
  }

  error(message: unknown, ...params: unknown[]): void {
    if (params.at(-1) === 'Idempotency') this.errors.push({ message, params: params.slice(0, -1) });
  }
}
