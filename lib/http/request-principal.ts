import { PrincipalUnresolvedException } from '../exceptions/principal-unresolved.exception.js';

/** The fields of `req.user` read for its id, in this order. */
export const PRINCIPAL_FIELDS = ['id', 'sub', 'userId', '_id'] as const;

/**
 * Who sent `request`, by default: the first of `req.user.id`, `sub`,
 * `userId`, `_id` that is set (as a string), or `undefined` for an anonymous
 * request.
 *
 * @throws PrincipalUnresolvedException when the request is authenticated but
 *   no id can be found: a `req.user` without any of those fields, or a
 *   request that `@nestjs/passport` authenticated (it set `req.authInfo`)
 *   with its user under another property. Never filed under "anonymous".
 */
export function defaultPrincipal(request: { user?: unknown; authInfo?: unknown }): string | undefined {
  const user = request.user;
  if (user === undefined) {
    if ('authInfo' in request) throw new PrincipalUnresolvedException();
    return undefined;
  }
  if (user === null || user === false) return undefined;
  if (typeof user !== 'object') return String(user);
  for (const field of PRINCIPAL_FIELDS) {
    const id = (user as Record<string, unknown>)[field];
    if (id !== undefined && id !== null && id !== '') return String(id);
  }
  throw new PrincipalUnresolvedException();
}
