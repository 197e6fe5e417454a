import type { OnApplicationShutdown } from '@nestjs/common';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbIdempotencyStore } from '../../lib/stores/dynamodb/index.js';

/**
 * `library-dynamodb`: the app's DynamoDB client (on the run's dynalite),
 * its calls counted by a middleware, and the store on it. Registered as a
 * provider, the client is destroyed on app shutdown (`app.close()`).
 */
export class DynamoDbConnection implements OnApplicationShutdown {
  readonly client: DynamoDBClient;
  /** Calls the client sent (one per `send`, whatever the SDK retried underneath). */
  readonly calls = { total: 0 };
  /** The store `IdempotencyModule` gets. */
  readonly store: DynamoDbIdempotencyStore;

  /**
   * @param endpoint the run's dynalite, e.g. `http://127.0.0.1:8000`
   * @param table the store's table: the orchestrator gives each app of a run its own
   */
  constructor(endpoint: string, table: string) {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
    this.client.middlewareStack.add(
      (next) => (args) => {
        this.calls.total++;
        return next(args);
      },
      { step: 'initialize', name: 'benchCallCounter' },
    );
    this.store = new DynamoDbIdempotencyStore(this.client, { table });
  }

  onApplicationShutdown(): void {
    this.client.destroy();
  }
}
