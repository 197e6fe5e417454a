import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ATTRIBUTES } from './dynamodb-items.js';

/**
 * The expressions of the store's conditional writes. Every attribute goes by
 * a `#name` placeholder (`state`, `status` and `token` are DynamoDB reserved
 * words) and only the names an expression uses are sent (DynamoDB refuses
 * unused ones). Times are the caller's epoch milliseconds: DynamoDB has no
 * server clock in expressions.
 */
export interface Expression {
  ConditionExpression: string;
  UpdateExpression?: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, AttributeValue>;
}

type Attribute = keyof typeof ATTRIBUTES;

/** `#attribute` placeholders for the attributes an expression uses. */
const namesOf = (...attributes: Attribute[]): Record<string, string> =>
  Object.fromEntries(attributes.map((attribute) => [`#${attribute}`, ATTRIBUTES[attribute]]));

const number = (value: number): AttributeValue => ({ N: String(value) });

/**
 * Claim: the item is absent, or it is claimable by the caller's clock — a
 * completed record past its ttl (`ends_at <= now`), or a processing record
 * whose lease ran out at least `leaseMargin` ms ago (`ends_at <= now - leaseMargin`).
 */
export function claimCondition(now: number, leaseMargin: number): Expression {
  return {
    ConditionExpression:
      'attribute_not_exists(#id) OR (#state = :completed AND #endsAt <= :now) OR (#state <> :completed AND #endsAt <= :leaseOver)',
    ExpressionAttributeNames: namesOf('id', 'state', 'endsAt'),
    ExpressionAttributeValues: { ':completed': { S: 'completed' }, ':now': number(now), ':leaseOver': number(now - leaseMargin) },
  };
}

/** Complete: the token still owns the record; store the outcome and its expiry (no `body`: REMOVE it). */
export function completeUpdate(
  token: string,
  status: number,
  headers: string,
  body: Buffer | null,
  endsAt: number,
  expiresAt: number,
): Expression {
  const set = '#state = :completed, #status = :status, #headers = :headers, #endsAt = :endsAt, #expiresAt = :expiresAt';
  return {
    ConditionExpression: '#token = :token',
    UpdateExpression: body ? `SET ${set}, #body = :body` : `SET ${set} REMOVE #body`,
    ExpressionAttributeNames: namesOf('token', 'state', 'status', 'headers', 'endsAt', 'expiresAt', 'body'),
    ExpressionAttributeValues: {
      ':token': { S: token },
      ':completed': { S: 'completed' },
      ':status': number(status),
      ':headers': { S: headers },
      ':endsAt': number(endsAt),
      ':expiresAt': number(expiresAt),
      ...(body && { ':body': { B: body } }),
    },
  };
}

/** Release: the token still owns the record (the item is deleted). */
export function releaseCondition(token: string): Expression {
  return {
    ConditionExpression: '#token = :token',
    ExpressionAttributeNames: namesOf('token'),
    ExpressionAttributeValues: { ':token': { S: token } },
  };
}

/** Extend the lease: the token still owns a processing record; move its end. */
export function extendUpdate(token: string, endsAt: number, expiresAt: number): Expression {
  return {
    ConditionExpression: '#token = :token AND #state = :processing',
    UpdateExpression: 'SET #endsAt = :endsAt, #expiresAt = :expiresAt',
    ExpressionAttributeNames: namesOf('token', 'state', 'endsAt', 'expiresAt'),
    ExpressionAttributeValues: {
      ':token': { S: token },
      ':processing': { S: 'processing' },
      ':endsAt': number(endsAt),
      ':expiresAt': number(expiresAt),
    },
  };
}
