import type { INestApplication, LoggerService } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyModule, IdempotencyRecord, type IdempotencyModuleOptions } from '../../../lib/index.js';
import { Gates } from '../../fixtures/gates.js';
import { ObservedController } from './observed.controller.js';

/**
 * Boots an Express app with {@link ObservedController} and the library with
 * `options`: records on PostgreSQL at `url`, unless `options.store` says
 * otherwise. `logger` is the app's Nest logger (none when unset).
 */
export async function bootObservedApp(url: string | null, options: IdempotencyModuleOptions, logger?: LoggerService): Promise<INestApplication> {
  const database = url ? [TypeOrmModule.forRoot({ type: 'postgres', url, entities: [IdempotencyRecord], synchronize: true })] : [];
  const moduleRef = await Test.createTestingModule({
    imports: [...database, IdempotencyModule.forRoot(options)],
    controllers: [ObservedController],
    providers: [Gates],
  }).compile();
  const app = moduleRef.createNestApplication(new ExpressAdapter(), { logger: logger ?? false });
  await app.init();
  return app;
}
