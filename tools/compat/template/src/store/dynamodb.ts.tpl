import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { IdempotencyModule } from 'nestjs-idempotency';
import { createDynamoDbIdempotencyTable, DynamoDbIdempotencyStore, MAX_DYNAMODB_RESPONSE_BYTES } from 'nestjs-idempotency/dynamodb';

/**
 * The app's DynamoDB client. With DYNAMODB_ENDPOINT (DynamoDB Local, dynalite)
 * it talks to that endpoint with dummy credentials; without it, to AWS with
 * the SDK's own region and credentials.
 */
function dynamoDbClient(): DynamoDBClient {
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint) return new DynamoDBClient({});
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

/** Provides the client, and destroys it when the app shuts down (the store never does). */
@Module({
  providers: [{ provide: DynamoDBClient, useFactory: dynamoDbClient }],
  exports: [DynamoDBClient],
})
export class DynamoDbModule implements OnApplicationShutdown {
  constructor(private readonly client: DynamoDBClient) {}

  onApplicationShutdown(): void {
    this.client.destroy();
  }
}

/**
 * The README's DynamoDB setup, no TypeORM or database: records in the table
 * IDEMPOTENCY_TABLE, created at startup (before the store checks it).
 */
export const idempotencyImports = [
  IdempotencyModule.forRootAsync({
    imports: [DynamoDbModule],
    inject: [DynamoDBClient],
    registerEntity: false, // the factory returns a store: no TypeORM entity to register
    useFactory: async (client: DynamoDBClient) => {
      const table = process.env.IDEMPOTENCY_TABLE ?? 'idempotency_records';
      await createDynamoDbIdempotencyTable(client, table);
      return {
        store: new DynamoDbIdempotencyStore(client, { table }),
        maxResponseBytes: MAX_DYNAMODB_RESPONSE_BYTES, // 384 KiB: the default 1 MiB does not fit in an item
      };
    },
  }),
];
