import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { ConsoleLogger, type LoggerService } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { performance } from 'node:perf_hooks';
import {
  IdempotencyModule,
  IdempotencyService,
  InMemoryIdempotencyStore,
  type IdempotencyEventListener,
  type IdempotencyModuleOptions,
} from '../../lib/index.js';
import { IdempotencyEvents } from '../../lib/observability/idempotency-events.js';
import { CapturingLogger } from './support/capturing-logger.js';

/** Boots the module on an in-memory store with `options` and the Nest `logger` (`false`: none). */
async function boot(options: IdempotencyModuleOptions, logger: LoggerService | false): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [IdempotencyModule.forRoot({ store: new InMemoryIdempotencyStore(), ...options })],
  }).compile();
  moduleRef.useLogger(logger);
  await moduleRef.init();
  return moduleRef;
}

describe('which event listeners the module builds', () => {
  let moduleRef: TestingModule | undefined;

  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
    metrics.disable();
    jest.restoreAllMocks();
  });

  it('none with no hook, no debug log and no MeterProvider (@opentelemetry/api installed): nothing is measured', async () => {
    moduleRef = await boot({}, false);
    const events = moduleRef.get(IdempotencyEvents);
    expect(events.enabled).toBe(false);
    expect(events.listenerCount).toBe(0);
    const now = jest.spyOn(performance, 'now');
    const service = moduleRef.get(IdempotencyService);
    expect(await service.execute('k-1', () => 'done')).toBe('done');
    expect(await service.execute('k-1', () => 'again')).toBe('done');
    expect(now).not.toHaveBeenCalled();
  });

  it('none when the logger has debug off', async () => {
    moduleRef = await boot({}, new ConsoleLogger({ logLevels: ['log', 'warn', 'error'] }));
    expect(moduleRef.get(IdempotencyEvents).enabled).toBe(false);
  });

  it('the hook alone, from onEvent', async () => {
    const onEvent = jest.fn<IdempotencyEventListener>();
    moduleRef = await boot({ onEvent }, false);
    expect(moduleRef.get(IdempotencyEvents).listenerCount).toBe(1);
    await moduleRef.get(IdempotencyService).execute('k-2', () => 1, { scope: 'jobs', principal: 'p' });
    expect(onEvent.mock.calls.map(([event]) => event.type)).toEqual(['claimed', 'completed']);
  });

  it('the debug log alone when the logger has debug on', async () => {
    moduleRef = await boot({}, new ConsoleLogger({ logLevels: ['debug'] }));
    expect(moduleRef.get(IdempotencyEvents).listenerCount).toBe(1);
  });

  it('the metrics listener alone when a global MeterProvider is registered', async () => {
    metrics.setGlobalMeterProvider(new MeterProvider());
    moduleRef = await boot({}, false);
    expect(moduleRef.get(IdempotencyEvents).listenerCount).toBe(1);
  });

  it('all three together', async () => {
    metrics.setGlobalMeterProvider(new MeterProvider());
    moduleRef = await boot({ onEvent: () => undefined }, new CapturingLogger());
    expect(moduleRef.get(IdempotencyEvents).listenerCount).toBe(3);
  });

  it('a listener that throws, or rejects, is logged; the operation and the other listeners go on', async () => {
    const logger = new CapturingLogger();
    const seen: string[] = [];
    moduleRef = await boot(
      {
        onEvent: (event) => {
          seen.push(event.type);
          if (event.type === 'claimed') throw new Error('listener bug');
          if (event.type === 'completed') return Promise.reject(new Error('async listener bug'));
        },
      },
      logger,
    );
    expect(await moduleRef.get(IdempotencyService).execute('k-3', () => 'done')).toBe('done');
    await new Promise((resolve) => setImmediate(resolve)); // the rejection is logged on a later tick
    expect(seen).toEqual(['claimed', 'completed']);
    expect(logger.debugLines).toHaveLength(2); // the debug log still heard both
    expect(logger.errors.map(({ message, params }) => [message, (params[0] as Error).message])).toEqual([
      ['An idempotency event listener failed on a "claimed" event (the request is not affected).', 'listener bug'],
      ['An idempotency event listener failed on a "completed" event (the request is not affected).', 'async listener bug'],
    ]);
  });

  it('refuses an onEvent that is not a function, at startup', async () => {
    await expect(boot({ onEvent: 'log' as never }, false)).rejects.toThrow('IdempotencyModule: `onEvent` must be a function (event) => void; got "log".');
  });
});
