-- CreateTable
CREATE TABLE "reconciliations" (
    "id" UUID NOT NULL,
    "trigger" TEXT NOT NULL,
    "window_from" TIMESTAMPTZ(3) NOT NULL,
    "window_to" TIMESTAMPTZ(3) NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'running',
    "counts" JSONB NOT NULL DEFAULT '{}',
    "mismatch_count" INTEGER NOT NULL DEFAULT 0,
    "failure_message" TEXT,
    "workflow_id" TEXT NOT NULL,
    "idempotency_key" TEXT,
    "request_hash" TEXT,
    "request_id" TEXT,
    "handed_off_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "reconciliations_pkey" PRIMARY KEY ("id"),
    -- Written by hand (Prisma cannot state them): the window runs forward, and the closed lists.
    CONSTRAINT "reconciliations_window_check" CHECK ("window_from" < "window_to"),
    CONSTRAINT "reconciliations_trigger_check" CHECK ("trigger" IN ('schedule', 'admin')),
    CONSTRAINT "reconciliations_status_check" CHECK ("status" IN ('running', 'completed', 'failed'))
);

-- CreateTable
CREATE TABLE "reconciliation_mismatches" (
    "id" BIGSERIAL NOT NULL,
    "reconciliation_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "resource_kind" TEXT NOT NULL,
    "resource_id" TEXT,
    "merchant_id" UUID,
    "finding_key" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "chain" JSONB,
    "read_model" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "reconciliation_mismatches_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reconciliation_chain_payments" (
    "reconciliation_id" UUID NOT NULL,
    "operation_id" BIGINT NOT NULL,
    "tx_hash" TEXT NOT NULL,
    "op_index" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "from_account" TEXT NOT NULL,
    "to_account" TEXT NOT NULL,
    "asset" TEXT NOT NULL,
    "amount_stroops" BIGINT NOT NULL,
    "memo" TEXT,
    "closed_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "reconciliation_chain_payments_pkey" PRIMARY KEY ("reconciliation_id","operation_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "reconciliations_workflow_id_key" ON "reconciliations"("workflow_id");

-- CreateIndex
CREATE UNIQUE INDEX "reconciliations_idempotency_key_key" ON "reconciliations"("idempotency_key");

-- CreateIndex
CREATE INDEX "reconciliations_created_at_id_idx" ON "reconciliations"("created_at", "id");

-- CreateIndex
CREATE INDEX "reconciliations_handed_off_at_created_at_idx" ON "reconciliations"("handed_off_at", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "reconciliation_mismatches_reconciliation_id_finding_key_key" ON "reconciliation_mismatches"("reconciliation_id", "finding_key");

-- CreateIndex
CREATE INDEX "issuances_status_updated_at_idx" ON "issuances"("status", "updated_at");

-- AddForeignKey
ALTER TABLE "reconciliation_mismatches" ADD CONSTRAINT "reconciliation_mismatches_reconciliation_id_fkey" FOREIGN KEY ("reconciliation_id") REFERENCES "reconciliations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
