import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { openDatabase } from './database/database.js';
import { startShipmentsConsumer } from './shipments/rabbitmq.js';
import { tryItHint } from './try-it.js';

/**
 * Starts the sample: PostgreSQL (`DATABASE_URL`, else embedded), then the
 * Nest app on HOST:PORT (default 127.0.0.1:3000), with its RabbitMQ
 * consumer when `RABBITMQ_URL` is set. Ctrl-C stops both.
 */
async function bootstrap(): Promise<void> {
  const logger = new Logger('Sample');
  const database = await openDatabase();
  logger.log(`PostgreSQL: ${database.url} (${database.description})`);
  try {
    const app = await NestFactory.create(AppModule.forRoot(database), { abortOnError: false });
    app.enableShutdownHooks();
    const rabbitmq = process.env.RABBITMQ_URL;
    if (rabbitmq) await startShipmentsConsumer(app, rabbitmq);
    const host = process.env.HOST ?? '127.0.0.1';
    const port = Number(process.env.PORT ?? 3000);
    await app.listen(port, host);
    logger.log(tryItHint(`http://${host}:${port}`, !!rabbitmq));
  } catch (error) {
    await database.stop?.();
    throw error;
  }
}

bootstrap().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
