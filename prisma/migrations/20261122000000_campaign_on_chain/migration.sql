-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "chain_change_seq" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "chain_settled_seq" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "on_chain_failure_change" TEXT,
ADD COLUMN     "on_chain_failure_code" INTEGER,
ADD COLUMN     "on_chain_failure_message" TEXT,
ADD COLUMN     "on_chain_failure_type" TEXT,
ADD COLUMN     "on_chain_ledger" INTEGER,
ADD COLUMN     "on_chain_status" TEXT,
ADD COLUMN     "on_chain_tx_hash" TEXT;

-- CreateTable
CREATE TABLE "campaign_chain_changes" (
    "campaign_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "budget_stroops" BIGINT,
    "starts_at" TIMESTAMPTZ(3),
    "ends_at" TIMESTAMPTZ(3),
    "status" TEXT NOT NULL DEFAULT 'pending',
    "tx_hash" TEXT,
    "ledger" INTEGER,
    "failure_type" TEXT,
    "failure_code" INTEGER,
    "failure_message" TEXT,
    "request_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "settled_at" TIMESTAMPTZ(3),

    CONSTRAINT "campaign_chain_changes_pkey" PRIMARY KEY ("campaign_id","seq")
);

-- CreateTable
CREATE TABLE "contract_calls" (
    "id" UUID NOT NULL,
    "business_key" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "contract_id" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "source_account" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "envelope_xdr" TEXT NOT NULL,
    "max_time" TIMESTAMPTZ(3) NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'built',
    "ledger" INTEGER,
    "contract_error_code" INTEGER,
    "result_codes" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "contract_calls_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "contract_calls_hash_key" ON "contract_calls"("hash");

-- CreateIndex
CREATE INDEX "contract_calls_status_idx" ON "contract_calls"("status");

-- CreateIndex
CREATE UNIQUE INDEX "contract_calls_business_key_attempt_key" ON "contract_calls"("business_key", "attempt");

-- AddForeignKey
ALTER TABLE "campaign_chain_changes" ADD CONSTRAINT "campaign_chain_changes_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
