import { Logger } from '@nestjs/common';
import type { IdempotencyModuleOptions } from '../interfaces/idempotency-module-options.interface.js';
import { debugLogListener } from './debug-log.js';
import type { IdempotencyEventListener } from './idempotency-event.js';

/**
 * The listeners of the protocol's decisions: the `onEvent` option; the
 * debug log when Nest's Logger has `debug` on (asked now: once the app's
 * logger and levels are set); OpenTelemetry metrics when
 * `@opentelemetry/api` is installed and a global MeterProvider registered.
 */
export async function eventListeners(options: IdempotencyModuleOptions, logger: Logger): Promise<IdempotencyEventListener[]> {
  const listeners: IdempotencyEventListener[] = [];
  if (options.onEvent) listeners.push(options.onEvent);
  if (Logger.isLevelEnabled('debug')) listeners.push(debugLogListener(logger));
  const metrics = await openTelemetryListener();
  if (metrics) listeners.push(metrics);
  return listeners;
}

/**
 * The metrics listener, `undefined` when `@opentelemetry/api` (an optional
 * peer) is not installed or no MeterProvider is registered. The module that
 * imports the API loads only here, so the core entry never does.
 */
async function openTelemetryListener(): Promise<IdempotencyEventListener | undefined> {
  let metrics: typeof import('./otel-metrics.js');
  try {
    metrics = await import('./otel-metrics.js');
  } catch (error) {
    if (isMissing(error, '@opentelemetry/api')) return undefined;
    throw error;
  }
  return metrics.metricsListener();
}

/** Whether `error` says that the package `name` could not be found. */
function isMissing(error: unknown, name: string): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && !!message?.includes(name);
}
