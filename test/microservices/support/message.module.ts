import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyModule, IdempotencyRecord, type IdempotencyModuleOptions } from '../../../lib/index.js';
import { Executions } from '../../fixtures/executions.js';
import { Gates } from '../../fixtures/gates.js';

/** An app of message handlers: PostgreSQL at `url`, the library with `options`, `controllers`. */
@Module({})
export class MessageModule {
  static forRoot(url: string, controllers: Type[], options: IdempotencyModuleOptions = {}): DynamicModule {
    return {
      module: MessageModule,
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url, entities: [IdempotencyRecord], synchronize: true }),
        IdempotencyModule.forRoot(options),
      ],
      controllers,
      providers: [Executions, Gates],
    };
  }
}
