import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyModule, IdempotencyRecord } from 'nestjs-idempotency';

/** The README's quick start: records in PostgreSQL (DATABASE_URL) through the default TypeORM store. */
export const idempotencyImports = [
  TypeOrmModule.forRoot({
    type: 'postgres',
    url: process.env.DATABASE_URL,
    entities: [IdempotencyRecord],
    synchronize: true,
  }),
  IdempotencyModule.forRoot(),
];
