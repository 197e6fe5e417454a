import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext, type GqlContextType } from '@nestjs/graphql';

interface Request {
  headers: Record<string, string | string[] | undefined>;
  user?: { id: string } | { name: string };
}

/** The HTTP request of a GraphQL context: `ctx.req` (both drivers), or Mercurius's `ctx.reply.request`. */
function requestOf(context: { req?: Request; reply?: { request: Request } }): Request | undefined {
  return context.req ?? context.reply?.request;
}

/**
 * Stands in for authentication in a GraphQL app: `Authorization: Bearer alice`
 * makes `req.user = { id: 'alice' }`, on the request read from the GraphQL
 * context; `Authorization: Name carol` a user with no id, `{ name: 'carol' }`.
 */
@Injectable()
export class GqlUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request =
      context.getType<GqlContextType>() === 'graphql'
        ? requestOf(GqlExecutionContext.create(context).getContext())
        : context.switchToHttp().getRequest<Request>();
    const match = /^(Bearer|Name) (\S+)$/.exec(String(request?.headers.authorization ?? ''));
    if (request && match) request.user = match[1] === 'Bearer' ? { id: match[2] } : { name: match[2] };
    return true;
  }
}
