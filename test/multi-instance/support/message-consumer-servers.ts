import { RmqContext, ServerNats, ServerRMQ } from '@nestjs/microservices';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { ConsumerMessage, Settlement } from './message-ipc.js';

function tell(message: ConsumerMessage): void {
  process.send?.(message);
}

/**
 * Nest's RabbitMQ server (Transport.RMQ), unchanged but observed: it tells
 * the test each delivery it receives, how each one is settled on its
 * channel (acknowledged, requeued, rejected), whether by the handler or by
 * the library, which both reach the channel through `RmqContext`, and when
 * Nest finished processing it (its processing end hook). The broker
 * shows no unacknowledged count over AMQP: this is how the test knows that
 * every delivery was settled.
 */
export class ObservedServerRMQ extends ServerRMQ {
  private readonly observed = new WeakMap<Channel, { id: number; proxy: Channel }>();
  private readonly ids = new WeakMap<Channel, number>();
  private channels = 0;

  constructor(...args: ConstructorParameters<typeof ServerRMQ>) {
    super(...args);
    this.setOnProcessingEndHook((_transport, context) => {
      if (!(context instanceof RmqContext)) return;
      const message = context.getMessage() as ConsumeMessage;
      const channel = this.ids.get(context.getChannelRef() as Channel) ?? 0;
      tell({ type: 'handled', messageId: String(message.properties.messageId), channel, deliveryTag: message.fields.deliveryTag });
    });
  }

  override async handleMessage(message: Parameters<ServerRMQ['handleMessage']>[0], channel: Channel): Promise<void> {
    const observed = this.observe(channel);
    const delivery = message as ConsumeMessage | null;
    if (delivery) {
      const { deliveryTag, redelivered } = delivery.fields;
      tell({ type: 'delivered', messageId: String(delivery.properties.messageId), channel: observed.id, deliveryTag, redelivered });
    }
    return super.handleMessage(message, observed.proxy);
  }

  /**
   * `channel` numbered (a reconnection opens a new one), with its `ack`,
   * `nack` and `reject` reported to the test once they went through (one
   * that throws is not), and its closing reported.
   */
  private observe(channel: Channel): { id: number; proxy: Channel } {
    let observed = this.observed.get(channel);
    if (!observed) {
      const id = ++this.channels;
      channel.once('close', () => tell({ type: 'channel-closed', channel: id }));
      const report = (message: ConsumeMessage, settlement: Settlement) =>
        tell({
          type: 'settled',
          messageId: String(message.properties.messageId),
          channel: id,
          deliveryTag: message.fields.deliveryTag,
          settlement,
        });
      const settles: Partial<Record<PropertyKey, unknown>> = {
        ack: (message: ConsumeMessage, allUpTo?: boolean) => {
          channel.ack(message, allUpTo);
          report(message, 'ack');
        },
        nack: (message: ConsumeMessage, allUpTo?: boolean, requeue = true) => {
          channel.nack(message, allUpTo, requeue);
          report(message, requeue ? 'requeue' : 'reject');
        },
        reject: (message: ConsumeMessage, requeue = true) => {
          channel.reject(message, requeue);
          report(message, requeue ? 'requeue' : 'reject');
        },
      };
      const proxy = new Proxy(channel, {
        get(target, property) {
          if (Object.hasOwn(settles, property)) return settles[property];
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      this.observed.set(channel, (observed = { id, proxy }));
      this.ids.set(proxy, id);
    }
    return observed;
  }
}

/**
 * Nest's NATS server (Transport.NATS), unchanged but observed: it tells the
 * test each request it receives (by its `Nats-Msg-Id`), so the test sees
 * which consumers of the queue group a storm reached.
 */
export class ObservedServerNats extends ServerNats {
  private received = 0;

  override handleMessage(...args: Parameters<ServerNats['handleMessage']>): ReturnType<ServerNats['handleMessage']> {
    const [, message] = args;
    const messageId = message.headers?.get('Nats-Msg-Id') ?? '';
    tell({ type: 'delivered', messageId, channel: 0, deliveryTag: ++this.received, redelivered: false });
    return super.handleMessage(...args);
  }
}
