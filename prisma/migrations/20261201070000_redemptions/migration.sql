-- CreateTable
CREATE TABLE "catalog_items" (
    "id" UUID NOT NULL,
    "merchant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "price_stroops" BIGINT NOT NULL,
    "stock" INTEGER,
    "reserved" INTEGER NOT NULL DEFAULT 0,
    "fulfilment" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "catalog_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "redemption_quotes" (
    "id" UUID NOT NULL,
    "merchant_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "wallet_address" TEXT NOT NULL,
    "price_stroops" BIGINT NOT NULL,
    "destination" TEXT NOT NULL,
    "sequence" BIGINT NOT NULL,
    "memo" TEXT NOT NULL,
    "tx_hash" TEXT NOT NULL,
    "envelope_xdr" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "redemption_quotes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "redemptions" (
    "id" UUID NOT NULL,
    "merchant_id" UUID NOT NULL,
    "quote_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "wallet_address" TEXT NOT NULL,
    "price_stroops" BIGINT NOT NULL,
    "fulfilment" TEXT NOT NULL,
    "signed_envelope_xdr" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "stock_state" TEXT NOT NULL DEFAULT 'reserved',
    "chain_state" TEXT NOT NULL DEFAULT 'none',
    "payment_tx_hash" TEXT,
    "refund_tx_hash" TEXT,
    "refund_reason" TEXT,
    "refund_message" TEXT,
    "failure_type" TEXT,
    "failure_message" TEXT,
    "alert" TEXT,
    "fulfilment_deadline" TIMESTAMPTZ(3),
    "request_id" TEXT,
    "workflow_id" TEXT NOT NULL,
    "handed_off_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "redemptions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "catalog_items_merchant_id_created_at_id_idx" ON "catalog_items"("merchant_id", "created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "redemption_quotes_tx_hash_key" ON "redemption_quotes"("tx_hash");

-- CreateIndex
CREATE INDEX "redemption_quotes_merchant_id_created_at_idx" ON "redemption_quotes"("merchant_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "redemptions_quote_id_key" ON "redemptions"("quote_id");

-- CreateIndex
CREATE UNIQUE INDEX "redemptions_workflow_id_key" ON "redemptions"("workflow_id");

-- CreateIndex
CREATE INDEX "redemptions_merchant_id_created_at_id_idx" ON "redemptions"("merchant_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "redemptions_status_created_at_idx" ON "redemptions"("status", "created_at");

-- CreateIndex
CREATE INDEX "redemptions_handed_off_at_created_at_idx" ON "redemptions"("handed_off_at", "created_at");

-- AddForeignKey
ALTER TABLE "catalog_items" ADD CONSTRAINT "catalog_items_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "redemption_quotes" ADD CONSTRAINT "redemption_quotes_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "catalog_items"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "redemptions" ADD CONSTRAINT "redemptions_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "redemptions" ADD CONSTRAINT "redemptions_quote_id_fkey" FOREIGN KEY ("quote_id") REFERENCES "redemption_quotes"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "redemptions" ADD CONSTRAINT "redemptions_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "catalog_items"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The domain's rules, held by the database too
ALTER TABLE "catalog_items" ADD CONSTRAINT "catalog_items_price_positive" CHECK ("price_stroops" > 0);
ALTER TABLE "catalog_items" ADD CONSTRAINT "catalog_items_stock_covers_reserved" CHECK ("reserved" >= 0 AND ("stock" IS NULL OR "stock" >= "reserved"));
ALTER TABLE "catalog_items" ADD CONSTRAINT "catalog_items_fulfilment" CHECK ("fulfilment" IN ('automatic', 'manual'));
ALTER TABLE "redemptions" ADD CONSTRAINT "redemptions_status" CHECK ("status" IN ('pending', 'paid', 'fulfilled', 'refunded', 'failed'));
ALTER TABLE "redemptions" ADD CONSTRAINT "redemptions_stock_state" CHECK ("stock_state" IN ('reserved', 'consumed', 'released'));
ALTER TABLE "redemptions" ADD CONSTRAINT "redemptions_chain_state" CHECK ("chain_state" IN ('none', 'open', 'confirmed', 'cancelled'));
ALTER TABLE "redemptions" ADD CONSTRAINT "redemptions_fulfilment" CHECK ("fulfilment" IN ('automatic', 'manual'));

