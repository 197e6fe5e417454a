import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { IdempotencyModuleOptions } from '../../../lib/index.js';
import { DynamoDbIdempotencyStore, MAX_DYNAMODB_RESPONSE_BYTES } from '../../../lib/stores/dynamodb/index.js';
import { dynaliteClient } from '../../support/dynalite.js';

/** The DynamoDB store of an instance (`STORE=dynamodb`): the endpoint the test's dynalite listens on, and the table. */
export interface DynamoDbStoreOptions {
  endpoint: string;
  table: string;
}

const DYNAMODB_CLIENT = Symbol('DYNAMODB_CLIENT');

/** Destroys the instance's DynamoDB client when the app shuts down. */
@Injectable()
class DynamoDbClientShutdown implements OnApplicationShutdown {
  constructor(@Inject(DYNAMODB_CLIENT) private readonly client: DynamoDBClient) {}

  onApplicationShutdown(): void {
    this.client.destroy();
  }
}

/**
 * A `DynamoDbIdempotencyStore` on a client of the instance's own, as an app
 * wires it (its default clock-skew margin; a `maxResponseBytes` that fits in
 * an item), and the provider that destroys the client on shutdown.
 */
export function dynamoDbStore({ endpoint, table }: DynamoDbStoreOptions): { options: IdempotencyModuleOptions; providers: Provider[] } {
  const client = dynaliteClient(endpoint, { maxAttempts: 3 });
  return {
    options: { store: new DynamoDbIdempotencyStore(client, { table }), maxResponseBytes: MAX_DYNAMODB_RESPONSE_BYTES },
    providers: [{ provide: DYNAMODB_CLIENT, useValue: client }, DynamoDbClientShutdown],
  };
}
