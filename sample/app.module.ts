import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CreateIdempotencyRecords, IdempotencyModule } from '../lib/index.js';
import { idempotencyOptions } from './config/idempotency.config.js';
import { DATABASE } from './database/database.constants.js';
import { DatabaseShutdown } from './database/database-shutdown.js';
import type { Database } from './database/database.js';
import { OrdersModule } from './orders/orders.module.js';
import { PaymentsModule } from './payments/payments.module.js';
import { ShipmentsModule } from './shipments/shipments.module.js';

/** The sample app on the PostgreSQL server `database`. */
@Module({})
export class AppModule {
  static forRoot(database: Database): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true }),
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: database.url,
          // The sample's own tables (orders) come from its entities...
          autoLoadEntities: true,
          synchronize: true,
          // ...and the library's table from its migration, run at start-up
          // (TypeORM records it in the "migrations" table and runs it once).
          migrations: [CreateIdempotencyRecords],
          migrationsRun: true,
        }),
        // Global interceptor for @Idempotent() and an injectable IdempotencyService;
        // records go to the TypeORM DataSource above.
        IdempotencyModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: idempotencyOptions,
        }),
        OrdersModule,
        PaymentsModule,
        ShipmentsModule,
      ],
      providers: [{ provide: DATABASE, useValue: database }, DatabaseShutdown],
    };
  }
}
