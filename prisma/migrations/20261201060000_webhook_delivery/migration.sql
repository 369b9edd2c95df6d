-- DropIndex
DROP INDEX "outbox_events_delivered_at_id_idx";

-- AlterTable: delivered_at was never set (nothing read the outbox). The events written before
-- webhooks existed predate every endpoint, so they count as relayed (to no endpoint).
ALTER TABLE "outbox_events" RENAME COLUMN "delivered_at" TO "relayed_at";
ALTER TABLE "outbox_events" ADD COLUMN "endpoint_id" UUID;
UPDATE "outbox_events" SET "relayed_at" = "created_at" WHERE "relayed_at" IS NULL;

-- CreateTable
CREATE TABLE "webhook_endpoints" (
    "id" UUID NOT NULL,
    "merchant_id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "description" TEXT,
    "events" TEXT[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "disabled_reason" TEXT,
    "disabled_at" TIMESTAMPTZ(3),
    "secret" TEXT NOT NULL,
    "previous_secret" TEXT,
    "previous_secret_expires_at" TIMESTAMPTZ(3),
    "failing_since" TIMESTAMPTZ(3),
    "last_success_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL,
    "event_id" BIGINT NOT NULL,
    "endpoint_id" UUID NOT NULL,
    "merchant_id" UUID NOT NULL,
    "event_type" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "run" INTEGER NOT NULL DEFAULT 1,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3),
    "last_attempt_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),
    "failure_type" TEXT,
    "failure_reason" TEXT,
    "workflow_id" TEXT NOT NULL,
    "handed_off_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_attempts" (
    "id" BIGSERIAL NOT NULL,
    "delivery_id" UUID NOT NULL,
    "run" INTEGER NOT NULL,
    "number" INTEGER NOT NULL,
    "attempted_at" TIMESTAMPTZ(3) NOT NULL,
    "latency_ms" INTEGER NOT NULL,
    "response_status" INTEGER,
    "error_kind" TEXT,
    "error" TEXT,
    "response_body" TEXT,

    CONSTRAINT "webhook_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_endpoint_leases" (
    "endpoint_id" UUID NOT NULL,
    "delivery_id" UUID NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "webhook_endpoint_leases_pkey" PRIMARY KEY ("endpoint_id","delivery_id")
);

-- CreateIndex
CREATE INDEX "webhook_endpoints_merchant_id_created_at_id_idx" ON "webhook_endpoints"("merchant_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "webhook_deliveries_merchant_id_created_at_id_idx" ON "webhook_deliveries"("merchant_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "webhook_deliveries_handed_off_at_created_at_idx" ON "webhook_deliveries"("handed_off_at", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_deliveries_event_id_endpoint_id_key" ON "webhook_deliveries"("event_id", "endpoint_id");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_attempts_delivery_id_run_number_key" ON "webhook_attempts"("delivery_id", "run", "number");

-- CreateIndex
CREATE INDEX "outbox_events_relayed_at_id_idx" ON "outbox_events"("relayed_at", "id");

-- AddForeignKey
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "outbox_events"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_attempts" ADD CONSTRAINT "webhook_attempts_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The delivery vocabulary (@nova/domain WEBHOOK_DELIVERY_STATUSES, WEBHOOK_DELIVERY_FAILURES).
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_status_check"
  CHECK ("status" IN ('pending', 'retrying', 'succeeded', 'failed'));
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_failure_type_check"
  CHECK ("failure_type" IS NULL OR "failure_type" IN ('RetriesExhausted', 'EndpointGone', 'EndpointDisabled'));
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_events_check"
  CHECK (cardinality("events") > 0);
