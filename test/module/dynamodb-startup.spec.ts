import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Controller, Post, type LoggerService, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { IdempotencyConfigurationError, IdempotencyModule, Idempotent, type IdempotencyModuleOptions } from '../../lib/index.js';
import {
  createDynamoDbIdempotencyTable,
  DynamoDbIdempotencyStore,
  MAX_DYNAMODB_RESPONSE_BYTES,
} from '../../lib/stores/dynamodb/index.js';
import { Dynalite, dynaliteClient, uniqueTable, unreachableEndpoint } from '../support/dynalite.js';

@Controller('plain')
class PlainController {
  @Post()
  @Idempotent()
  create() {
    return {};
  }
}

@Controller('waiting')
class WaitingController {
  @Post()
  @Idempotent({ wait: 5_000 })
  create() {
    return {};
  }
}

@Controller('atomic')
class AtomicController {
  @Post()
  @Idempotent({ atomic: true })
  create() {
    return {};
  }
}

@Controller('large')
class LargeResponseController {
  @Post()
  @Idempotent({ maxResponseBytes: 1024 * 1024 })
  create() {
    return {};
  }
}

class WarningLogger implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}

/** Startup of an app on the DynamoDB store: what it cannot do is refused with the fix, before any request. */
describe('IdempotencyModule on DynamoDbIdempotencyStore: startup checks', () => {
  let dynalite: Dynalite;
  let client: DynamoDBClient;
  const table = uniqueTable();

  beforeAll(async () => {
    dynalite = await Dynalite.start();
    client = dynalite.client();
    await createDynamoDbIdempotencyTable(client, table);
  });

  afterAll(async () => {
    client?.destroy();
    await dynalite?.stop();
  });

  const start = async (controller: Type, options: IdempotencyModuleOptions, logger: LoggerService | false = false) => {
    const moduleRef = await Test.createTestingModule({ imports: [IdempotencyModule.forRoot(options)], controllers: [controller] }).compile();
    moduleRef.useLogger(logger);
    return moduleRef.init();
  };
  const fitting = (store = new DynamoDbIdempotencyStore(client, { table })) => ({ store, maxResponseBytes: MAX_DYNAMODB_RESPONSE_BYTES });

  it('starts with a maxResponseBytes that fits in an item', async () => {
    await (await start(PlainController, fitting())).close();
  });

  it('refuses the default maxResponseBytes (1 MiB), which does not fit in a 400 KB item', async () => {
    await expect(start(PlainController, { store: new DynamoDbIdempotencyStore(client, { table }) })).rejects.toThrow(
      new IdempotencyConfigurationError(
        `DynamoDbIdempotencyStore keeps an outcome in one item (at most 400 KB), but maxResponseBytes is 1048576. ` +
          `Set maxResponseBytes to ${MAX_DYNAMODB_RESPONSE_BYTES} or less in IdempotencyModule.forRoot() (and in any @Idempotent() that sets it).`,
      ),
    );
  });

  it('refuses a route whose own maxResponseBytes does not fit', async () => {
    await expect(start(LargeResponseController, fitting())).rejects.toThrow(/but maxResponseBytes is 1048576/);
  });

  it('refuses a route with `wait`: DynamoDB cannot wake waiters', async () => {
    await expect(start(WaitingController, fitting())).rejects.toThrow(
      /The `wait` option is not available on DynamoDbIdempotencyStore.*Use another store for it \(PostgreSQL, SQLite, Redis or in-memory/,
    );
  });

  it('refuses a module-wide `wait` too (execute() would wait)', async () => {
    await expect(start(PlainController, { ...fitting(), wait: 1_000 })).rejects.toThrow(/The `wait` option is not available/);
  });

  it('refuses an atomic route: DynamoDB has no interactive transactions', async () => {
    await expect(start(AtomicController, fitting())).rejects.toThrow(/@Idempotent\(\{ atomic: true \}\) on AtomicController.create needs a store with transactions/);
  });

  it('refuses a table that does not exist, naming how to create it', async () => {
    await expect(start(PlainController, fitting(new DynamoDbIdempotencyStore(client, { table: 'missing_table' })))).rejects.toThrow(
      /the table "missing_table" does not exist.*createDynamoDbIdempotencyTable/,
    );
  });

  it('starts anyway when DynamoDB is unreachable, with a warning (an outage, not a misconfiguration)', async () => {
    const unreachable = dynaliteClient(await unreachableEndpoint());
    const logger = new WarningLogger();
    try {
      await (await start(PlainController, fitting(new DynamoDbIdempotencyStore(unreachable, { table })), logger)).close();
      expect(logger.warnings).toEqual([expect.stringMatching(/^The idempotency store is unreachable at startup; starting anyway: DynamoDB unreachable/)]);
    } finally {
      unreachable.destroy();
    }
  });
});
