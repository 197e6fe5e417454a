import { NatsContext, RmqContext, RpcException } from '@nestjs/microservices';
import type { IdempotencyException } from '../exceptions/idempotency.exception.js';
import { canonicalPattern } from './message-patterns.js';
import { acknowledge } from './rmq-acknowledgement.js';
import type { HandlerTransportFactory } from '../interceptors/handler-transport.js';

/** The NATS header that carries a message's id (as JetStream reads it for deduplication). */
export const NATS_MESSAGE_ID_HEADER = 'Nats-Msg-Id';

/**
 * Message handlers of `@nestjs/microservices`: the key from the message's
 * own id (AMQP `messageId`, NATS `Nats-Msg-Id` header; other transports
 * have none, so the `key` option gives it), the scope `message <pattern>`,
 * no principal by default, the fingerprint over the message data, and
 * refusals as `RpcException`s whose error is `{ code, status, title, detail,
 * retryAfterSeconds? }`. With RabbitMQ manual acknowledgements
 * (`rmq: { noAck: false }`), the messages answered without their handler
 * are acknowledged, requeued or rejected.
 */
export const createRpcTransport: HandlerTransportFactory = (options, warn) => ({
  input: (context) => context.getArgByIndex(0),
  ownKey: (context) => {
    const rpc: unknown = context.getArgByIndex(1);
    if (rpc instanceof RmqContext) return rpc.getMessage().properties?.messageId || undefined;
    if (rpc instanceof NatsContext) return rpc.getHeaders()?.get(NATS_MESSAGE_ID_HEADER) || undefined;
    const transport = (rpc as object | undefined)?.constructor?.name ?? 'this';
    warn(
      `no-message-id:${transport}`,
      `A message reached @Idempotent() over a transport without message ids (${transport}): it was refused as having no key. ` +
        'Set the `key` option, e.g. @Idempotent({ key: (data) => data.requestId }).',
    );
    return undefined;
  },
  keySource: () => `a message id (an AMQP messageId, a ${NATS_MESSAGE_ID_HEADER} header) or the \`key\` option`,
  defaultScope: (context) => `message ${canonicalPattern(context.getHandler())}`,
  defaultPrincipal: () => undefined,
  wait: (_context, cap) => cap,
  refusal: (error: IdempotencyException) => {
    const retry = error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds };
    return new RpcException({ code: error.code, ...error.problem, ...retry });
  },
  settle: options.rmq?.noAck === false ? acknowledge : undefined,
});
