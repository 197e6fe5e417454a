import { DynamoDBClient, GetItemCommand, type AttributeValue, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { startDynaliteProcess } from '../../tools/dynalite-server.js';

// The SDK warns once per process that its 2027 releases need Node 22; the tests run on 20 on purpose.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * A dynalite server (the DynamoDB API on LevelDB in memory) on a free port of
 * 127.0.0.1, started by a test: nothing to install outside npm. Tables are
 * active at once. dynalite does not return the old item on a failed
 * condition (`ReturnValuesOnConditionCheckFailure`) and has no
 * `UpdateTimeToLive`.
 */
export class Dynalite {
  private constructor(
    /** `http://127.0.0.1:<port>`, the client's `endpoint`. */
    readonly endpoint: string,
    private readonly stopServer: () => Promise<void>,
  ) {}

  /** Starts dynalite in this process. */
  static async start(): Promise<Dynalite> {
    const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new Dynalite(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
  }

  /**
   * Starts dynalite in a child process: for the multi-process tests, where
   * the test's own process makes the load and the server should not share its
   * event loop.
   */
  static async startProcess(): Promise<Dynalite> {
    const server = await startDynaliteProcess();
    return new Dynalite(server.endpoint, () => server.stop());
  }

  /** A client of this server (fixed dummy credentials); the caller destroys it. */
  client(config: DynamoDBClientConfig = {}): DynamoDBClient {
    return dynaliteClient(this.endpoint, config);
  }

  stop(): Promise<void> {
    return this.stopServer();
  }
}

/** A client of the dynalite at `endpoint`, e.g. in a worker process. */
export function dynaliteClient(endpoint: string, config: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    ...config,
  });
}

/** An endpoint on a port of 127.0.0.1 that nothing listens on (free a moment ago): connections are refused. */
export async function unreachableEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** A table name no other test uses: `idempotency_<random>`. */
export function uniqueTable(): string {
  return `idempotency_${randomBytes(6).toString('hex')}`;
}

/**
 * Counts the commands `client` sends, by name (`PutItemCommand`, ...), as a
 * middleware of the client: one count per call the store makes (the SDK's
 * own retries of a call are not counted again).
 */
export class CommandCounter {
  private readonly counts = new Map<string, number>();

  constructor(client: DynamoDBClient) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = context.commandName ?? 'unknown';
        this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
        return next(args);
      },
      { step: 'initialize', name: `commandCounter-${randomBytes(4).toString('hex')}` },
    );
  }

  /** Commands sent since the last `take()` (or since counting began), by name; then starts again from zero. */
  take(): Record<string, number> {
    const counts = Object.fromEntries(this.counts);
    this.counts.clear();
    return counts;
  }
}

/**
 * Makes `client` behave as DynamoDB does on a failed condition that asked for
 * `ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`: the error carries the
 * item in the way (`Item`). dynalite does not; this middleware reads the item
 * (strongly consistent) through a client of its own, so the store under test
 * sees one call, as on DynamoDB. Not atomic like DynamoDB's: the item may
 * change in between, or be gone (then the error carries none).
 */
export function returnOldItemOnConditionFailure(client: DynamoDBClient, endpoint: string, keyAttribute = 'id'): () => void {
  const reader = dynaliteClient(endpoint);
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const input = args.input as { TableName?: string; Item?: Record<string, AttributeValue>; Key?: Record<string, AttributeValue> };
        const asked = (args.input as { ReturnValuesOnConditionCheckFailure?: string }).ReturnValuesOnConditionCheckFailure === 'ALL_OLD';
        if (error instanceof Error && error.name === 'ConditionalCheckFailedException' && asked) {
          const Key = input.Key ?? { [keyAttribute]: input.Item![keyAttribute] };
          const { Item } = await reader.send(new GetItemCommand({ TableName: input.TableName, Key, ConsistentRead: true }));
          Object.assign(error, { Item });
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'returnOldItemOnConditionFailure' },
  );
  return () => reader.destroy();
}
