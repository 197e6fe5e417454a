import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import request from 'supertest';
import { InMemoryIdempotencyStore } from '../../lib/index.js';
import { IdempotencyEvents } from '../../lib/observability/idempotency-events.js';
import { bootObservedApp } from './support/observed-app.js';

/**
 * OpenTelemetry metrics through the SDK's in-memory exporter: the global
 * MeterProvider is registered before the module initializes, as an app's
 * instrumentation does it, and nothing else listens (no hook, no debug log).
 */
describe('OpenTelemetry metrics of the decisions', () => {
  let provider: MeterProvider;
  let exporter: InMemoryMetricExporter;
  let reader: PeriodicExportingMetricReader;
  let app: INestApplication;

  beforeAll(async () => {
    exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    provider = new MeterProvider({ readers: [reader] });
    expect(metrics.setGlobalMeterProvider(provider)).toBe(true);
    app = await bootObservedApp(null, { store: new InMemoryIdempotencyStore() });
  });

  afterAll(async () => {
    await app?.close();
    await provider?.shutdown();
    metrics.disable();
  });

  /** The metrics of the library's meter, as the exporter last received them. */
  async function exported(): Promise<Map<string, MetricData>> {
    await reader.forceFlush();
    const [scope] = exporter.getMetrics().at(-1)!.scopeMetrics.filter((s) => s.scope.name === 'nestjs-idempotency');
    return new Map(scope.metrics.map((metric) => [metric.descriptor.name, metric]));
  }

  it('builds the metrics listener alone', () => {
    expect(app.get(IdempotencyEvents).listenerCount).toBe(1);
  });

  it('counts each decision by outcome, scope and transport, and times the store call behind it in seconds', async () => {
    const post = (path: string, key: string, body: object = {}) => request(app.getHttpServer()).post(path).set('Idempotency-Key', key).send(body);
    expect((await post('/orders', 'm-1', { item: 'book' })).status).toBe(201);
    expect((await post('/orders', 'm-1', { item: 'book' })).status).toBe(201);
    expect((await post('/orders', 'm-1', { item: 'lamp' })).status).toBe(422);
    expect((await post('/unavailable', 'm-2')).status).toBe(503);

    const byName = await exported();
    const decisions = byName.get('idempotency.decisions')!;
    expect(decisions.descriptor).toMatchObject({ unit: '{decision}', type: 'COUNTER' });
    expect(decisions.dataPointType).toBe(DataPointType.SUM);
    const counted = decisions.dataPoints.map((point) => ({ attributes: point.attributes, value: point.value }));
    const decision = (outcome: string, scope: string) => ({
      attributes: { 'idempotency.outcome': outcome, 'idempotency.transport': 'http', 'idempotency.scope': scope },
      value: 1,
    });
    expect(counted).toEqual(
      expect.arrayContaining([
        decision('claimed', 'POST /orders'),
        decision('completed', 'POST /orders'),
        decision('replayed', 'POST /orders'),
        decision('mismatch', 'POST /orders'),
        decision('claimed', 'POST /unavailable'),
        decision('released', 'POST /unavailable'),
      ]),
    );
    expect(counted).toHaveLength(6);

    const duration = byName.get('idempotency.store.duration')!;
    expect(duration.descriptor).toMatchObject({ unit: 's', type: 'HISTOGRAM' });
    expect(duration.dataPointType).toBe(DataPointType.HISTOGRAM);
    const timed = Object.fromEntries(
      duration.dataPoints.map((point) => {
        const histogram = point.value as { count: number; sum: number; buckets: { boundaries: number[] } };
        expect(point.attributes['idempotency.transport']).toBe('http');
        expect(histogram.sum).toBeGreaterThan(0);
        expect(histogram.sum).toBeLessThan(1); // seconds, not milliseconds
        expect(histogram.buckets.boundaries).toEqual([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
        return [point.attributes['idempotency.outcome'] as string, histogram.count];
      }),
    );
    expect(timed).toEqual({ claimed: 2, completed: 1, replayed: 1, mismatch: 1, released: 1 });
  });
});
