import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbIdempotencyTable } from '../lib/stores/dynamodb/index.js';
import { startDynaliteProcess } from '../tools/dynalite-server.js';
import { serverCpuMs } from './server-cpu.js';

/**
 * The orchestrator's view of the DynamoDB API the `dynamodb-*` apps use: a
 * dynalite server (npm `dynalite`, LevelDB in memory) in a process of its
 * own on a free port, started for the run and stopped after it. Each app gets
 * a table of its own, emptied (dropped and created again) before each window.
 * dynalite does not return the item with a failed condition: a replay takes
 * the store's fallback path (one `GetItem` more than on DynamoDB).
 */
export interface BenchDynamodb {
  /** `http://127.0.0.1:<port>`, for the apps. */
  readonly endpoint: string;
  /** dynalite's version. */
  readonly serverVersion: string;
  /** A new table for the app of `scenario`. */
  createTable(scenario: string): Promise<string>;
  /** Drops `table` and creates it again, so that a window starts from no records. */
  clear(table: string): Promise<void>;
  /** CPU so far of the dynalite process, in ms (`undefined` when not readable). */
  serverCpuMs(): Promise<Map<number, number> | undefined>;
  /** Stops dynalite. */
  close(): Promise<void>;
}

/** Starts dynalite for the run. @throws Error saying why when it does not start. */
export async function openBenchDynamodb(): Promise<BenchDynamodb> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const server = await startDynaliteProcess();
  const client = new DynamoDBClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  let tables = 0;
  return {
    endpoint: server.endpoint,
    serverVersion: `dynalite ${server.version}`,
    async createTable(scenario) {
      const table = `bench_${scenario.replace(/[^A-Za-z0-9_.-]/g, '_')}_${++tables}`;
      await createDynamoDbIdempotencyTable(client, table);
      return table;
    },
    async clear(table) {
      await client.send(new DeleteTableCommand({ TableName: table }));
      await createDynamoDbIdempotencyTable(client, table);
    },
    serverCpuMs: () => serverCpuMs([server.pid], 'node'),
    async close() {
      client.destroy();
      await server.stop();
    },
  };
}
