-- The worker metrics count the open webhook deliveries (pending, retrying) at every scrape:
-- a partial index keeps that count to the open rows, however many finished ones the table holds.
-- The Prisma schema cannot state a partial index, so it is kept here only.
CREATE INDEX "webhook_deliveries_open_status_idx" ON "webhook_deliveries" ("status")
  WHERE "status" IN ('pending', 'retrying');
