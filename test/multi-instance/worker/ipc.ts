import { Injectable, type LoggerService } from '@nestjs/common';
import { format } from 'node:util';
import type { ReleaseMessage, WorkerMessage } from '../support/messages.js';

/** Sends `message` to the test process. */
export function notify(message: WorkerMessage): void {
  process.send?.(message);
}

/**
 * A barrier per idempotency key that the test opens: a handler calls
 * `pass(key)`, the test hears `arrived` and later answers `release`.
 */
@Injectable()
export class IpcGate {
  private readonly waiting = new Map<string, (action: ReleaseMessage['action']) => void>();

  constructor() {
    process.on('message', (message: ReleaseMessage) => {
      if (message?.type !== 'release') return;
      this.waiting.get(message.key)?.(message.action);
      this.waiting.delete(message.key);
    });
  }

  /** Waits until the test releases `key`; resolves what the handler should do. */
  pass(key: string): Promise<ReleaseMessage['action']> {
    return new Promise((resolve) => {
      this.waiting.set(key, resolve);
      notify({ type: 'arrived', key });
    });
  }
}

/** Forwards warnings and errors to the test (and to stderr with `TEST_LOG`); drops the rest. */
export class IpcLogger implements LoggerService {
  log(): void {}

  warn(message: unknown, ...rest: unknown[]): void {
    this.forward('warn', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.forward('error', message, rest);
  }

  private forward(level: 'warn' | 'error', message: unknown, rest: unknown[]): void {
    const text = format(message, ...rest);
    if (process.env.TEST_LOG) process.stderr.write(`[${process.env.WORKER_NAME} ${level}] ${text}\n`);
    notify({ type: 'log', level, message: text });
  }
}
