import { Injectable } from '@nestjs/common';
import type pg from 'pg';
import { DataSource } from 'typeorm';

/** The table of the hand-rolled scenario: the least a careful team would keep. */
export const HAND_ROLLED_SCHEMA = `
  CREATE TABLE hand_rolled_idempotency (
    key text PRIMARY KEY,
    fingerprint text NOT NULL,
    token uuid NOT NULL,
    status text NOT NULL,
    response_status smallint,
    response_body text,
    expires_at timestamptz NOT NULL
  );
  CREATE INDEX hand_rolled_idempotency_expires_at ON hand_rolled_idempotency (expires_at)`;

/** The statements of {@link HandRolledStore}, one round trip each. */
export const HAND_ROLLED_SQL = {
  /*
   * Claim and read: insert; else take over an expired row (processing past
   * its lease, or completed past its ttl); else return the row in the way, as
   * the statement's snapshot sees it.
   */
  claim: `
  WITH inserted AS (
    INSERT INTO hand_rolled_idempotency (key, fingerprint, token, status, expires_at)
    VALUES ($1, $2, $3, 'processing', now() + interval '60 seconds')
    ON CONFLICT (key) DO NOTHING
    RETURNING 1
  ), taken_over AS (
    UPDATE hand_rolled_idempotency
    SET fingerprint = $2, token = $3, status = 'processing', response_status = NULL, response_body = NULL,
        expires_at = now() + interval '60 seconds'
    WHERE key = $1 AND expires_at <= now() AND NOT EXISTS (SELECT FROM inserted)
    RETURNING 1
  )
  SELECT EXISTS (SELECT FROM inserted) OR EXISTS (SELECT FROM taken_over) AS claimed,
         r.fingerprint, r.status, r.response_status, r.response_body, r.expires_at > now() AS live
  FROM (SELECT) AS one LEFT JOIN hand_rolled_idempotency AS r ON r.key = $1`,
  /** Fenced by the token: a request whose lease was taken over cannot overwrite the new owner. */
  complete: `
  UPDATE hand_rolled_idempotency
  SET status = 'completed', response_status = $3, response_body = $4, expires_at = now() + interval '24 hours'
  WHERE key = $1 AND token = $2`,
  release: 'DELETE FROM hand_rolled_idempotency WHERE key = $1 AND token = $2',
};

/** What the claim found. `live` is false when no row was visible or it had expired. */
export interface HandRolledClaim {
  claimed: boolean;
  fingerprint: string | null;
  status: 'processing' | 'completed' | null;
  response_status: number | null;
  response_body: string | null;
  live: boolean | null;
}

/**
 * Idempotency the way a careful team would write it by hand: raw SQL through
 * pg's pool (the same pool TypeORM uses) as named prepared statements, one
 * statement to claim (and read), one to complete or release.
 */
@Injectable()
export class HandRolledStore {
  private readonly pool: pg.Pool;

  constructor(dataSource: DataSource) {
    this.pool = (dataSource.driver as unknown as { master: pg.Pool }).master;
  }

  async claim(key: string, fingerprint: string, token: string): Promise<HandRolledClaim> {
    const { rows } = await this.pool.query<HandRolledClaim>(this.prepared('claim', [key, fingerprint, token]));
    return rows[0];
  }

  async complete(key: string, token: string, status: number, body: string): Promise<void> {
    await this.pool.query(this.prepared('complete', [key, token, status, body]));
  }

  async release(key: string, token: string): Promise<void> {
    await this.pool.query(this.prepared('release', [key, token]));
  }

  /** As a named prepared statement: parsed and planned once per connection, as the library's store does. */
  private prepared(statement: keyof typeof HAND_ROLLED_SQL, values: unknown[]): pg.QueryConfig {
    return { name: `hand-rolled-${statement}`, text: HAND_ROLLED_SQL[statement], values };
  }
}
