import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext, type GqlContextType } from '@nestjs/graphql';

interface Request {
  headers: Record<string, string | string[] | undefined>;
  user?: { id: string };
}

/** The HTTP request of a GraphQL context: `ctx.req` (both drivers), or Mercurius's `ctx.reply.request`. */
function requestOf(context: { req?: Request; reply?: { request: Request } }): Request | undefined {
  return context.req ?? context.reply?.request;
}

/**
 * Stands in for authentication in a GraphQL app: `Authorization: Bearer alice`
 * makes `req.user = { id: 'alice' }`, on the request read from the GraphQL context.
 */
@Injectable()
export class GqlUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request =
      context.getType<GqlContextType>() === 'graphql'
        ? requestOf(GqlExecutionContext.create(context).getContext())
        : context.switchToHttp().getRequest<Request>();
    const match = /^Bearer (\S+)$/.exec(String(request?.headers.authorization ?? ''));
    if (request && match) request.user = { id: match[1] };
    return true;
  }
}
