import type { Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { IDEMPOTENCY_OPTIONS } from './idempotency.internal-constants.js';
import type { IdempotencyModuleOptions } from './interfaces/idempotency-module-options.interface.js';
import { IdempotencyStore } from './interfaces/idempotency-store.interface.js';
import { TypeOrmIdempotencyStore } from './stores/typeorm/typeorm-idempotency.store.js';

/** The store in use: the `store` option, else TypeORM on the (named) DataSource. */
export const idempotencyStoreProvider: Provider = {
  provide: IdempotencyStore,
  inject: [IDEMPOTENCY_OPTIONS, ModuleRef],
  useFactory: (options: IdempotencyModuleOptions, moduleRef: ModuleRef): IdempotencyStore => {
    if (options.store) return options.store;
    const token = getDataSourceToken(options.dataSource);
    // Looked up on first use: the DataSource may be created after this store.
    return new TypeOrmIdempotencyStore(() => {
      try {
        return moduleRef.get<DataSource>(token, { strict: false });
      } catch {
        throw new Error(
          `IdempotencyModule found no TypeORM DataSource${options.dataSource ? ` named "${options.dataSource}"` : ''}. ` +
            'Import TypeOrmModule.forRoot() in your application, set the `dataSource` option to its name, ' +
            'or pass a `store` (e.g. new InMemoryIdempotencyStore()).',
        );
      }
    });
  },
};
