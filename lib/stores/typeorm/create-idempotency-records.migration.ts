import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Creates the `idempotency_records` table (PostgreSQL), the same table
 * `synchronize: true` builds from {@link IdempotencyRecord}.
 *
 * @example
 * new DataSource({ type: 'postgres', url, migrations: [CreateIdempotencyRecords] })
 */
export class CreateIdempotencyRecords implements MigrationInterface {
  name = 'CreateIdempotencyRecords1763856000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "idempotency_records" (
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
      )`);
    await queryRunner.query(
      `CREATE INDEX "IDX_idempotency_records_expires_at" ON "idempotency_records" ("expires_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "idempotency_records"`);
  }
}
