-- CreateTable
CREATE TABLE "contract_events" (
    "id" TEXT NOT NULL,
    "contract" TEXT NOT NULL,
    "contract_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "resource_id" TEXT,
    "ledger" INTEGER NOT NULL,
    "ledger_closed_at" TIMESTAMPTZ(3) NOT NULL,
    "tx_hash" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "topic_xdr" TEXT[],
    "value_xdr" TEXT NOT NULL,
    "indexed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contract_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "contract_event_cursors" (
    "contract" TEXT NOT NULL,
    "contract_id" TEXT NOT NULL,
    "cursor" TEXT,
    "next_ledger" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "contract_event_cursors_pkey" PRIMARY KEY ("contract")
);

-- CreateTable
CREATE TABLE "contract_event_gaps" (
    "id" UUID NOT NULL,
    "contract" TEXT NOT NULL,
    "contract_id" TEXT NOT NULL,
    "from_ledger" INTEGER NOT NULL,
    "to_ledger" INTEGER NOT NULL,
    "failure_type" TEXT NOT NULL,
    "detected_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contract_event_gaps_pkey" PRIMARY KEY ("id"),
    -- A gap names at least one ledger, and its range runs forward.
    CONSTRAINT "contract_event_gaps_range_check" CHECK ("from_ledger" >= 1 AND "to_ledger" >= "from_ledger")
);

-- CreateIndex
CREATE INDEX "contract_events_contract_id_idx" ON "contract_events"("contract", "id");

-- CreateIndex
CREATE INDEX "contract_events_type_id_idx" ON "contract_events"("type", "id");

-- CreateIndex
CREATE INDEX "contract_events_resource_id_idx" ON "contract_events"("resource_id");

-- CreateIndex
CREATE INDEX "contract_event_gaps_contract_from_ledger_idx" ON "contract_event_gaps"("contract", "from_ledger");
