-- One transaction journal for everything the platform puts on chain.
-- CreateEnum
CREATE TYPE "journal_source" AS ENUM ('payment_batch', 'contract_call', 'external');

-- CreateEnum
CREATE TYPE "journal_status" AS ENUM ('prepared', 'submitted', 'landed', 'failed', 'expired');

-- CreateEnum
CREATE TYPE "journal_action" AS ENUM ('submit', 'lookup', 'fee_bump', 'expire');

-- CreateTable
CREATE TABLE "journal_transactions" (
    "id" UUID NOT NULL,
    "source" "journal_source" NOT NULL,
    "hash" TEXT NOT NULL,
    "envelope_xdr" TEXT NOT NULL,
    "fee_bump_xdr" TEXT,
    "source_account" TEXT NOT NULL,
    "sequence" BIGINT NOT NULL,
    "max_time" TIMESTAMPTZ(3) NOT NULL,
    "memo" TEXT,
    "contract_id" TEXT,
    "method" TEXT,
    "status" "journal_status" NOT NULL DEFAULT 'prepared',
    "ledger" INTEGER,
    "result_codes" JSONB,
    "contract_error_code" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "journal_transactions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "journal_items" (
    "id" UUID NOT NULL,
    "transaction_id" UUID NOT NULL,
    "op_index" INTEGER NOT NULL,
    "business_key" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "destination" TEXT,
    "amount_stroops" BIGINT,
    "memo" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "journal_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "journal_attempts" (
    "id" BIGSERIAL NOT NULL,
    "transaction_id" UUID NOT NULL,
    "action" "journal_action" NOT NULL,
    "outcome" TEXT NOT NULL,
    "detail" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "journal_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "journal_transactions_hash_key" ON "journal_transactions"("hash");

-- CreateIndex
CREATE INDEX "journal_transactions_status_idx" ON "journal_transactions"("status");

-- CreateIndex
CREATE UNIQUE INDEX "journal_items_business_key_attempt_key" ON "journal_items"("business_key", "attempt");

-- CreateIndex
CREATE UNIQUE INDEX "journal_items_transaction_id_op_index_key" ON "journal_items"("transaction_id", "op_index");

-- CreateIndex
CREATE INDEX "journal_attempts_transaction_id_idx" ON "journal_attempts"("transaction_id");

-- AddForeignKey
ALTER TABLE "journal_items" ADD CONSTRAINT "journal_items_transaction_id_fkey" FOREIGN KEY ("transaction_id") REFERENCES "journal_transactions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "journal_attempts" ADD CONSTRAINT "journal_attempts_transaction_id_fkey" FOREIGN KEY ("transaction_id") REFERENCES "journal_transactions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- The journal takes over what payment_envelopes / payment_items / submission_attempts and
-- contract_calls held. Every transaction keeps its id, every payment its item.
INSERT INTO "journal_transactions" ("id", "source", "hash", "envelope_xdr", "fee_bump_xdr", "source_account", "sequence",
                                    "max_time", "memo", "status", "ledger", "result_codes", "created_at", "updated_at")
SELECT "id", 'payment_batch', "hash", "envelope_xdr", "fee_bump_xdr", "channel_account", "sequence", "max_time", "memo",
       (CASE "status" WHEN 'built' THEN 'prepared' WHEN 'confirmed' THEN 'landed' ELSE "status" END)::"journal_status",
       "ledger", "result_codes", "created_at", "updated_at"
  FROM "payment_envelopes";

INSERT INTO "journal_items" ("id", "transaction_id", "op_index", "business_key", "attempt", "destination", "amount_stroops", "memo", "created_at")
SELECT "id", "envelope_id", "op_index", "business_key", "attempt", "destination", "amount_stroops", "memo", "created_at"
  FROM "payment_items";

INSERT INTO "journal_attempts" ("transaction_id", "action", "outcome", "detail", "at")
SELECT "envelope_id", (CASE "action" WHEN 'fee-bump' THEN 'fee_bump' ELSE "action" END)::"journal_action", "outcome", "detail", "at"
  FROM "submission_attempts" ORDER BY "id";

-- A contract call refused at the door never reached a ledger: failed, as the journal says now.
-- Its sequence number was not kept (it is in the envelope XDR): 0 stands for "not recorded".
INSERT INTO "journal_transactions" ("id", "source", "hash", "envelope_xdr", "source_account", "sequence", "max_time",
                                    "contract_id", "method", "status", "ledger", "result_codes", "contract_error_code",
                                    "created_at", "updated_at")
SELECT "id", 'contract_call', "hash", "envelope_xdr", "source_account", 0, "max_time", "contract_id", "method",
       (CASE "status" WHEN 'built' THEN 'prepared' WHEN 'refused' THEN 'failed' ELSE "status" END)::"journal_status",
       "ledger", "result_codes", "contract_error_code", "created_at", "updated_at"
  FROM "contract_calls";

INSERT INTO "journal_items" ("id", "transaction_id", "op_index", "business_key", "attempt", "created_at")
SELECT gen_random_uuid(), "id", 0, "business_key", "attempt", "created_at" FROM "contract_calls";

-- Statuses are closed sets (the words of @nova/domain), not free strings.
ALTER TABLE "issuances" ADD CONSTRAINT "issuances_status_check" CHECK ("status" IN ('pending', 'submitted', 'confirmed', 'failed'));
ALTER TABLE "issuances" ADD CONSTRAINT "issuances_reservation_check" CHECK ("reservation" IN ('none', 'reserved', 'paid', 'released'));
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_status_check" CHECK ("status" IN ('active', 'paused'));
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_on_chain_status_check" CHECK ("on_chain_status" IN ('pending', 'synced', 'failed'));
ALTER TABLE "campaign_chain_changes" ADD CONSTRAINT "campaign_chain_changes_kind_check" CHECK ("kind" IN ('register', 'update', 'pause', 'resume'));
ALTER TABLE "campaign_chain_changes" ADD CONSTRAINT "campaign_chain_changes_status_check" CHECK ("status" IN ('pending', 'synced', 'failed'));

-- DropForeignKey
ALTER TABLE "payment_items" DROP CONSTRAINT "payment_items_envelope_id_fkey";

-- DropForeignKey
ALTER TABLE "submission_attempts" DROP CONSTRAINT "submission_attempts_envelope_id_fkey";

-- DropTable
DROP TABLE "payment_envelopes";

-- DropTable
DROP TABLE "payment_items";

-- DropTable
DROP TABLE "submission_attempts";

-- DropTable
DROP TABLE "contract_calls";

