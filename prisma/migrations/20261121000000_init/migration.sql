-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "self_checks" (
    "id" UUID NOT NULL,
    "request_id" TEXT,
    "workflow_id" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'started',
    "worker_identity" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "self_checks_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "self_checks_workflow_id_key" ON "self_checks"("workflow_id");
