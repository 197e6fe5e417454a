import type { TransactionHost } from '@nestjs-cls/transactional';

/** What {@link adoptTransaction} needs of a `TransactionHost` beyond its public API. */
interface TransactionHostInternals {
  setTxInstance?: (tx: unknown) => void;
}

/**
 * Makes `tx` the active transaction of `host` in the current CLS context
 * (`host.tx` returns it, `host.isTransactionActive()` is true), as
 * `host.withTransaction()` does once its adapter has begun one.
 *
 * `@nestjs-cls/transactional` (3.x) has no public API to adopt a transaction
 * begun elsewhere, so this calls the host's private `setTxInstance()`: it sets
 * the CLS key that `tx` reads (private too, and not exported) and, with
 * `enableTransactionProxy`, the `@InjectTransaction()` proxy. This is the one
 * place that relies on it; test/cls/cls-transaction-context.e2e.spec.ts fails
 * if it changes, and {@link ClsTransactionContext} checks the outcome on
 * every call, so a change is an error rather than writes outside the transaction.
 *
 * @returns `false` when the host has no such method (another version of the package).
 */
export function adoptTransaction(host: TransactionHost<never>, tx: unknown): boolean {
  const internals = host as unknown as TransactionHostInternals;
  if (typeof internals.setTxInstance !== 'function') return false;
  internals.setTxInstance(tx);
  return true;
}
