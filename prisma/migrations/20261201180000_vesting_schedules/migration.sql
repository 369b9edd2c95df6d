-- CreateTable
CREATE TABLE "vesting_schedules" (
    "id" UUID NOT NULL,
    "merchant_id" UUID NOT NULL,
    "campaign_id" UUID NOT NULL,
    "beneficiary" TEXT NOT NULL,
    "total_stroops" BIGINT NOT NULL,
    "start_at" TIMESTAMPTZ(3) NOT NULL,
    "cliff_at" TIMESTAMPTZ(3) NOT NULL,
    "end_at" TIMESTAMPTZ(3) NOT NULL,
    "interval" TEXT NOT NULL,
    "revocable" BOOLEAN NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'active',
    "released_stroops" BIGINT NOT NULL DEFAULT 0,
    "paid_through" INTEGER NOT NULL DEFAULT 0,
    "registered_tx_hash" TEXT,
    "stalled_failure_type" TEXT,
    "stalled_message" TEXT,
    "stalled_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "revocation_tx_hash" TEXT,
    "revocation_stroops" BIGINT,
    "returned_stroops" BIGINT,
    "idempotency_claim_id" UUID,
    "request_id" TEXT,
    "workflow_id" TEXT NOT NULL,
    "handed_off_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "vesting_schedules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "vesting_releases" (
    "schedule_id" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "amount_stroops" BIGINT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'scheduled',
    "tx_hash" TEXT,
    "paid_at" TIMESTAMPTZ(3),

    CONSTRAINT "vesting_releases_pkey" PRIMARY KEY ("schedule_id","number")
);

-- CreateIndex
CREATE UNIQUE INDEX "vesting_schedules_idempotency_claim_id_key" ON "vesting_schedules"("idempotency_claim_id");

-- CreateIndex
CREATE UNIQUE INDEX "vesting_schedules_workflow_id_key" ON "vesting_schedules"("workflow_id");

-- CreateIndex
CREATE INDEX "vesting_schedules_merchant_id_created_at_id_idx" ON "vesting_schedules"("merchant_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "vesting_schedules_status_created_at_idx" ON "vesting_schedules"("status", "created_at");

-- CreateIndex
CREATE INDEX "vesting_schedules_handed_off_at_created_at_idx" ON "vesting_schedules"("handed_off_at", "created_at");

-- AddForeignKey
ALTER TABLE "vesting_schedules" ADD CONSTRAINT "vesting_schedules_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "vesting_schedules" ADD CONSTRAINT "vesting_schedules_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "vesting_releases" ADD CONSTRAINT "vesting_releases_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "vesting_schedules"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Never more paid than granted (a second payment of a release would break this before it could be recorded).
ALTER TABLE "vesting_schedules" ADD CONSTRAINT "vesting_schedules_released_within_total"
    CHECK ("released_stroops" >= 0 AND "released_stroops" <= "total_stroops");
