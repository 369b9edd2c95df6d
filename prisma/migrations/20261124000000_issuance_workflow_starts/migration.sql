-- The issuance's first workflow start is an outbox row written with the issuance: the API
-- answers 202 without waiting for Temporal, and a sweeper starts what was left behind.
-- CreateTable
CREATE TABLE "issuance_workflow_starts" (
    "issuance_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "issuance_workflow_starts_pkey" PRIMARY KEY ("issuance_id")
);

-- CreateIndex
CREATE INDEX "issuance_workflow_starts_created_at_idx" ON "issuance_workflow_starts"("created_at");

-- AddForeignKey
ALTER TABLE "issuance_workflow_starts" ADD CONSTRAINT "issuance_workflow_starts_issuance_id_fkey" FOREIGN KEY ("issuance_id") REFERENCES "issuances"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Issuances whose first run never began may never have been started (the API stopped between
-- the insert and the start): the sweeper starts them (a run already open is left as it is).
INSERT INTO "issuance_workflow_starts" ("issuance_id", "created_at")
SELECT "id", "created_at" FROM "issuances" WHERE "attempts" = 0 AND "status" = 'pending';
