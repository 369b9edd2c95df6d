-- CreateTable
CREATE TABLE "channel_accounts" (
    "public_key" TEXT NOT NULL,
    "lease_holder" TEXT,
    "lease_expires_at" TIMESTAMPTZ(3),
    "leased_count" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "channel_accounts_pkey" PRIMARY KEY ("public_key")
);

-- CreateTable
CREATE TABLE "payment_envelopes" (
    "id" UUID NOT NULL,
    "business_key" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,
    "envelope_xdr" TEXT NOT NULL,
    "fee_bump_xdr" TEXT,
    "channel_account" TEXT NOT NULL,
    "sequence" BIGINT NOT NULL,
    "max_time" TIMESTAMPTZ(3) NOT NULL,
    "destination" TEXT NOT NULL,
    "amount_stroops" BIGINT NOT NULL,
    "memo" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'built',
    "ledger" INTEGER,
    "result_codes" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "payment_envelopes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "submission_attempts" (
    "id" BIGSERIAL NOT NULL,
    "envelope_id" UUID NOT NULL,
    "action" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "detail" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "submission_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "channel_accounts_lease_expires_at_idx" ON "channel_accounts"("lease_expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "payment_envelopes_hash_key" ON "payment_envelopes"("hash");

-- CreateIndex
CREATE INDEX "payment_envelopes_status_idx" ON "payment_envelopes"("status");

-- CreateIndex
CREATE UNIQUE INDEX "payment_envelopes_business_key_attempt_key" ON "payment_envelopes"("business_key", "attempt");

-- CreateIndex
CREATE INDEX "submission_attempts_envelope_id_idx" ON "submission_attempts"("envelope_id");

-- AddForeignKey
ALTER TABLE "submission_attempts" ADD CONSTRAINT "submission_attempts_envelope_id_fkey" FOREIGN KEY ("envelope_id") REFERENCES "payment_envelopes"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
