import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { openDatabase } from './database/database.js';
import { tryItHint } from './try-it.js';

/**
 * Starts the sample: PostgreSQL (`DATABASE_URL`, else embedded), then the
 * Nest app on HOST:PORT (default 127.0.0.1:3000). Ctrl-C stops both.
 */
async function bootstrap(): Promise<void> {
  const logger = new Logger('Sample');
  const database = await openDatabase();
  logger.log(`PostgreSQL: ${database.url} (${database.description})`);
  try {
    const app = await NestFactory.create(AppModule.forRoot(database), { abortOnError: false });
    app.enableShutdownHooks();
    const host = process.env.HOST ?? '127.0.0.1';
    const port = Number(process.env.PORT ?? 3000);
    await app.listen(port, host);
    logger.log(tryItHint(`http://${host}:${port}`));
  } catch (error) {
    await database.stop?.();
    throw error;
  }
}

bootstrap().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
