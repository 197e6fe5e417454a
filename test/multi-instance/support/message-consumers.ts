import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LogMessage, ReleaseMessage } from './messages.js';
import type {
  ConsumerEnv,
  ConsumerMessage,
  DeliveredMessage,
  HandledMessage,
  SettledMessage,
  Settlement,
  StopMessage,
} from './message-ipc.js';

const ENTRY = fileURLToPath(new URL('./message-consumer.ts', import.meta.url));
const REGISTER_TS = new URL('./register-ts.mjs', import.meta.url).href;
const START_TIMEOUT_MS = 30_000;
/** How long a stopping consumer may take to close its broker connection before it is killed. */
const STOP_TIMEOUT_MS = 5_000;

/**
 * One consumer process (message-consumer.ts): a Nest microservice on a
 * broker, like worker-process.ts's HTTP instance. It reports the warnings and
 * errors it logged, its handlers reaching their barrier, and (RabbitMQ) every
 * delivery it got and how each was settled.
 */
export class MessageConsumer {
  readonly logs: LogMessage[] = [];
  readonly deliveries: DeliveredMessage[] = [];
  readonly settlements: SettledMessage[] = [];
  /** Deliveries whose processing Nest finished (RabbitMQ). */
  readonly handled: HandledMessage[] = [];
  /** RabbitMQ channels of this consumer that closed: the broker took back their unsettled deliveries. */
  readonly closedChannels = new Set<number>();
  /** Resolves how the process ended: its exit code, or the signal that ended it. */
  readonly exited: Promise<number | string>;
  private readonly arrivals = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  private expectExit = false;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly output: string[],
  ) {
    child.on('message', (message: ConsumerMessage) => {
      if (message.type === 'arrived') this.arrival(message.key).resolve();
      else if (message.type === 'log') this.logs.push(message);
      else if (message.type === 'delivered') this.deliveries.push(message);
      else if (message.type === 'settled') this.settlements.push(message);
      else if (message.type === 'handled') this.handled.push(message);
      else if (message.type === 'channel-closed') this.closedChannels.add(message.channel);
    });
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode ?? child.exitCode!);
      else child.once('exit', (code, signal) => resolve(signal ?? code!));
    });
    child.once('exit', (code, signal) => {
      if (!this.expectExit) console.error(`consumer ${name} exited with ${signal ?? code}:\n${output.join('')}`);
    });
  }

  /** Starts a consumer and resolves once it listens on its broker. */
  static async start(name: string, env: Omit<ConsumerEnv, 'WORKER_NAME'>): Promise<MessageConsumer> {
    const child = fork(ENTRY, [], {
      execArgv: ['--import', REGISTER_TS, '--enable-source-maps'],
      env: { ...process.env, ...env, WORKER_NAME: name },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const output: string[] = [];
    const collect = (chunk: Buffer) => {
      if (process.env.TEST_LOG) process.stderr.write(chunk);
      output.push(chunk.toString());
      if (output.length > 50) output.shift();
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    // Listen from the start: nothing the consumer reports once ready is missed.
    const consumer = new MessageConsumer(name, child, output);
    consumer.expectExit = true; // until it is ready, a failure is the start's to report
    await new Promise<void>((resolve, reject) => {
      const fail = (reason: string) => {
        child.kill('SIGKILL');
        reject(new Error(`consumer ${name} did not start: ${reason}\n${output.join('')}`));
      };
      const timer = setTimeout(() => fail(`no "ready" within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
      const onExit = (code: number | null, signal: string | null) => {
        clearTimeout(timer);
        fail(`exited with ${signal ?? code}`);
      };
      child.on('message', function ready(message: ConsumerMessage) {
        if (message.type !== 'ready') return;
        clearTimeout(timer);
        child.off('message', ready);
        child.off('exit', onExit);
        resolve();
      });
      child.once('exit', onExit);
    });
    consumer.expectExit = false;
    return consumer;
  }

  /** Whether the process still runs. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once the gated handler of `key` waits at its barrier in this process. */
  arrived(key: string): Promise<void> {
    return this.arrival(key).promise;
  }

  /** Lets the gated handler of `key` go on: write its effect and return, or throw. */
  release(key: string, action: ReleaseMessage['action'] = 'return'): void {
    this.child.send({ type: 'release', key, action } satisfies ReleaseMessage);
  }

  /** How many of this consumer's deliveries of `messageId` were settled `settlement`. */
  settled(messageId: string, settlement: Settlement): number {
    return this.settlements.filter((s) => s.messageId === messageId && s.settlement === settlement).length;
  }

  /** Whether Nest finished processing `delivery` (the library answered it, or the handler ran). */
  hasHandled(delivery: DeliveredMessage): boolean {
    return this.handled.some((h) => h.channel === delivery.channel && h.deliveryTag === delivery.deliveryTag);
  }

  /** Deliveries this consumer holds: not settled (yet), on a channel still open. */
  unsettled(): DeliveredMessage[] {
    const settled = new Set(this.settlements.map((s) => `${s.channel}:${s.deliveryTag}`));
    return this.deliveries.filter((d) => !settled.has(`${d.channel}:${d.deliveryTag}`) && !this.closedChannels.has(d.channel));
  }

  /** The output the process wrote last (its last 50 chunks). */
  get lastOutput(): string {
    return this.output.join('');
  }

  /** `kill -9`: the process dies at once, mid-handler, like a crashed consumer. */
  async crash(): Promise<void> {
    this.expectExit = true;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /**
   * Closes the microservice (its broker connection closes cleanly, so
   * whatever it settled reached the broker) and waits for the exit; a consumer
   * that does not close in time is killed.
   */
  async stop(): Promise<void> {
    this.expectExit = true;
    if (!this.alive) return void (await this.exited);
    this.child.send({ type: 'stop' } satisfies StopMessage);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private arrival(key: string) {
    let entry = this.arrivals.get(key);
    if (!entry) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.arrivals.set(key, (entry = { promise, resolve }));
    }
    return entry;
  }
}

/** Several consumer processes on one queue (RabbitMQ) or queue group (NATS), sharing one database. */
export class ConsumerGroup {
  private constructor(readonly consumers: MessageConsumer[]) {}

  /** Starts `size` consumers (`c1`, `c2`, …) in parallel. */
  static async start(size: number, env: Omit<ConsumerEnv, 'WORKER_NAME'>): Promise<ConsumerGroup> {
    const started = await Promise.allSettled(Array.from({ length: size }, (_, i) => MessageConsumer.start(`c${i + 1}`, env)));
    const consumers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failure = started.find((result) => result.status === 'rejected');
    if (failure) {
      await Promise.all(consumers.map((consumer) => consumer.stop()));
      throw failure.reason;
    }
    return new ConsumerGroup(consumers);
  }

  get alive(): MessageConsumer[] {
    return this.consumers.filter((consumer) => consumer.alive);
  }

  /** Resolves the consumer whose gated handler of `key` reached its barrier (whichever the broker chose). */
  arrivedAt(key: string): Promise<MessageConsumer> {
    return Promise.race(this.consumers.map((consumer) => consumer.arrived(key).then(() => consumer)));
  }

  /** Settlements of deliveries of `messageId` over every consumer, e.g. `{ ack: 30 }`. */
  settlementsOf(messageId: string): Partial<Record<Settlement, number>> {
    const counts: Partial<Record<Settlement, number>> = {};
    for (const { settlement } of this.consumers.flatMap((c) => c.settlements).filter((s) => s.messageId === messageId)) {
      counts[settlement] = (counts[settlement] ?? 0) + 1;
    }
    return counts;
  }

  /** How many deliveries of `messageId` the broker made, over every consumer. */
  deliveriesOf(messageId: string): number {
    return this.consumers.flatMap((c) => c.deliveries).filter((d) => d.messageId === messageId).length;
  }

  /** Deliveries that a live consumer holds unsettled. */
  unsettled(): string[] {
    return this.alive.flatMap((c) => c.unsettled().map((d) => `${c.name}: ${d.messageId} #${d.deliveryTag}`));
  }

  /** Every warning and error logged by any consumer. */
  logs(): string[] {
    return this.consumers.flatMap((c) => c.logs.map((log) => `[${c.name} ${log.level}] ${log.message}`));
  }

  async stop(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.stop()));
  }
}
