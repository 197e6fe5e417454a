import type { ExecutionContext } from '@nestjs/common';
import type { GraphQLResolveInfo } from 'graphql';
import { headerValues, parseIdempotencyKey } from '../http/idempotency-key.js';
import { preferredWait } from '../http/prefer-wait.js';
import { defaultPrincipal } from '../http/request-principal.js';
import type { HandlerTransportFactory } from '../interceptors/handler-transport.js';
import { GraphQLIdempotencyRefusal } from './graphql-refusal.js';

/** The HTTP request of a GraphQL context: `req` (Apollo, Express), `request`, or `reply.request` (Mercurius). */
interface GraphQLContext {
  req?: GraphQLRequest;
  request?: GraphQLRequest;
  reply?: { request?: GraphQLRequest };
}

interface GraphQLRequest {
  headers?: Record<string, string | string[] | undefined>;
  rawHeaders?: string[];
  raw?: { rawHeaders?: string[] };
  user?: unknown;
  authInfo?: unknown;
}

/**
 * GraphQL mutations (Apollo, Mercurius): the key from the operation's HTTP
 * header, the scope `Mutation.<field>` (with its alias, so two aliases of one
 * field in a document are two records), the principal as over HTTP, the
 * fingerprint over the resolver's arguments, and refusals as GraphQL errors
 * with `extensions.code` (see {@link GraphQLIdempotencyRefusal}).
 */
export const createGraphQLTransport: HandlerTransportFactory = () => ({
  input: (context) => context.getArgByIndex(1),
  ownKey: (context, header) => {
    const request = requestOf(context);
    const rawHeaders = request?.raw?.rawHeaders ?? request?.rawHeaders;
    return rawHeaders ? parseIdempotencyKey(header, headerValues(rawHeaders, header)) : undefined;
  },
  keySource: (header) => `an ${header} header on the operation's HTTP request`,
  defaultScope: (context) => {
    const { parentType, fieldName, path } = infoOf(context);
    const scope = `${parentType.name}.${fieldName}`;
    return path.key === fieldName ? scope : `${scope}@${path.key}`;
  },
  defaultPrincipal: (context) => {
    const request = requestOf(context);
    return request ? defaultPrincipal(request) : undefined;
  },
  wait: (context, cap) => preferredWait(requestOf(context)?.headers?.prefer, cap),
  refusal: (error) => new GraphQLIdempotencyRefusal(error),
});

function infoOf(context: ExecutionContext): GraphQLResolveInfo {
  return context.getArgByIndex(3);
}

function requestOf(context: ExecutionContext): GraphQLRequest | undefined {
  const graphqlContext: GraphQLContext | undefined = context.getArgByIndex(2);
  return graphqlContext?.req ?? graphqlContext?.request ?? graphqlContext?.reply?.request;
}
