import type { INestApplication } from '@nestjs/common';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';

/** The queue the sample consumes and `publish-shipment.ts` publishes to. */
export const SHIPMENTS_QUEUE = 'sample-shipments';

/**
 * Attaches the RabbitMQ consumer to the app when `url` is set. Without
 * `inheritAppConfig`: `@Idempotent()` protects the handler all the same.
 */
export async function startShipmentsConsumer(app: INestApplication, url: string): Promise<void> {
  app.connectMicroservice<MicroserviceOptions>({
    transport: Transport.RMQ,
    options: { urls: [url], queue: SHIPMENTS_QUEUE, noAck: false },
  });
  await app.startAllMicroservices();
}
