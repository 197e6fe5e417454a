import type { RecordsTableDdl } from '../sql-records.js';

/** The `idempotency_records` table on PostgreSQL, as `synchronize` builds it from `IdempotencyRecord`. */
export const POSTGRES_TABLE_DDL: RecordsTableDdl = {
  create: [
    `CREATE TABLE "idempotency_records" (
        "scope" text NOT NULL,
        "principal" text NOT NULL,
        "key" character varying(255) NOT NULL,
        "fingerprint" character varying(64) NOT NULL,
        "status" character varying(16) NOT NULL,
        "token" uuid NOT NULL,
        "locked_until" TIMESTAMP WITH TIME ZONE,
        "response_status" smallint,
        "response_headers" jsonb,
        "response_body" bytea,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "completed_at" TIMESTAMP WITH TIME ZONE,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_idempotency_records" PRIMARY KEY ("scope", "principal", "key")
      )`,
    `CREATE INDEX "IDX_idempotency_records_expires_at" ON "idempotency_records" ("expires_at")`,
  ],
  drop: [`DROP TABLE "idempotency_records"`],
};
