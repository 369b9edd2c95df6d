-- Payments are batched: one envelope (transaction) carries one payment item per operation.
-- CreateTable
CREATE TABLE "payment_items" (
    "id" UUID NOT NULL,
    "envelope_id" UUID NOT NULL,
    "op_index" INTEGER NOT NULL,
    "business_key" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "destination" TEXT NOT NULL,
    "amount_stroops" BIGINT NOT NULL,
    "memo" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payment_items_pkey" PRIMARY KEY ("id")
);

-- Every existing envelope paid one item (operation 0), which keeps the envelope id.
INSERT INTO "payment_items" ("id", "envelope_id", "op_index", "business_key", "attempt", "destination", "amount_stroops", "memo", "created_at")
SELECT "id", "id", 0, "business_key", "attempt", "destination", "amount_stroops", "memo", "created_at" FROM "payment_envelopes";

-- DropIndex
DROP INDEX "payment_envelopes_business_key_attempt_key";

-- AlterTable
ALTER TABLE "payment_envelopes" DROP COLUMN "amount_stroops",
DROP COLUMN "attempt",
DROP COLUMN "business_key",
DROP COLUMN "destination";

-- CreateIndex
CREATE UNIQUE INDEX "payment_items_business_key_attempt_key" ON "payment_items"("business_key", "attempt");

-- CreateIndex
CREATE UNIQUE INDEX "payment_items_envelope_id_op_index_key" ON "payment_items"("envelope_id", "op_index");

-- AddForeignKey
ALTER TABLE "payment_items" ADD CONSTRAINT "payment_items_envelope_id_fkey" FOREIGN KEY ("envelope_id") REFERENCES "payment_envelopes"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
