-- Idempotency-Key handling moves out of the issuance service into one table that the API's
-- idempotency interceptor keeps for every mutating merchant route (issue 10, part 5).

-- A key may be used again once it expired, so issuances no longer hold (merchant, key) unique:
-- the last guard against a second issuance is the key's claim, which a retry taking the claim
-- over (after a crash or a 5xx) carries unchanged.
DROP INDEX "issuances_merchant_id_idempotency_key_key";

ALTER TABLE "issuances" DROP COLUMN "request_hash",
ADD COLUMN     "idempotency_claim_id" UUID;

-- Issuances made before this migration were never claimed through the table: each gets a claim
-- of its own, so the unique index holds.
UPDATE "issuances" SET "idempotency_claim_id" = gen_random_uuid();

ALTER TABLE "issuances" ALTER COLUMN "idempotency_claim_id" SET NOT NULL;

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "merchant_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "claim_id" UUID NOT NULL,
    "request_method" TEXT NOT NULL,
    "request_path" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "locked_at" TIMESTAMPTZ(3),
    "response_status" INTEGER,
    "response_body" JSON,
    "response_headers" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("merchant_id","key"),
    -- 1-255 printable ASCII characters, as the API accepts them.
    CONSTRAINT "idempotency_keys_key_check" CHECK ("key" ~ '^[ -~]{1,255}$'),
    -- in_flight: a run holds the key (since locked_at), completed: the answer to replay,
    -- released: the last run ended in a 5xx, the next retry of the same request runs again.
    CONSTRAINT "idempotency_keys_state_check" CHECK (
        ("state" = 'in_flight' AND "locked_at" IS NOT NULL AND "response_status" IS NULL)
        OR ("state" = 'completed' AND "locked_at" IS NULL AND "response_status" IS NOT NULL)
        OR ("state" = 'released' AND "locked_at" IS NULL AND "response_status" IS NULL)
    )
);

-- CreateIndex
CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "issuances_idempotency_claim_id_key" ON "issuances"("idempotency_claim_id");

-- AddForeignKey
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
