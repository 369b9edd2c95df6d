-- The event stream (GET /v1/events/stream) reads the outbox in the order its events became
-- visible. outbox_events.id cannot give that order: a BIGSERIAL value is taken when the row is
-- inserted, and concurrent transactions commit in any order, so an event with a lower id can
-- become visible after a higher one was streamed (a cursor on the id would skip it). Each event
-- gets a second number instead, its stream position, at commit time: a deferred trigger takes
-- one transaction-scoped advisory lock, draws the next position and notifies the API replicas.
-- The lock is held from that moment to the end of the commit, and PostgreSQL releases locks only
-- after the commit is visible, so positions become visible in increasing order: a reader that
-- has seen position p will never see a new event at or below p. The lock serialises only the
-- commit of transactions that wrote events, not their work.
--
-- A second source of stream events (another table, e.g. the indexer's contract events) joins
-- the same order by having `id`, `merchant_id`, `created_at` and `stream_position` columns and
-- the same trigger: positions come from one sequence under one lock, whatever the table.

-- AlterTable
ALTER TABLE "outbox_events" ADD COLUMN     "stream_position" BIGINT;

-- CreateTable
CREATE TABLE "event_stream_horizon" (
    "id" BOOLEAN NOT NULL DEFAULT true,
    "pruned_through" BIGINT NOT NULL DEFAULT 0,
    "swept_through" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "event_stream_horizon_pkey" PRIMARY KEY ("id"),
    -- One row only.
    CONSTRAINT "event_stream_horizon_single_row" CHECK ("id"),
    CONSTRAINT "event_stream_horizon_swept_within_pruned" CHECK ("swept_through" <= "pruned_through")
);
INSERT INTO "event_stream_horizon" ("id") VALUES (true);

-- Events written before this migration are all committed: their id order is a valid stream order.
CREATE SEQUENCE "event_stream_position_seq" AS BIGINT;
UPDATE "outbox_events" SET "stream_position" = "id";
SELECT setval('event_stream_position_seq', COALESCE((SELECT max("id") FROM "outbox_events"), 0) + 1, false);

-- CreateIndex
CREATE UNIQUE INDEX "outbox_events_stream_position_key" ON "outbox_events"("stream_position");

-- CreateIndex
CREATE INDEX "outbox_events_merchant_id_stream_position_idx" ON "outbox_events"("merchant_id", "stream_position");

CREATE FUNCTION "assign_event_stream_position"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  next_position BIGINT;
BEGIN
  -- Held until this transaction's commit is visible: the next writer draws after it.
  PERFORM pg_advisory_xact_lock(hashtextextended('nova/event-stream-position', 0));
  next_position := nextval('event_stream_position_seq');
  EXECUTE format('UPDATE %I.%I SET stream_position = $1 WHERE id = $2', TG_TABLE_SCHEMA, TG_TABLE_NAME)
    USING next_position, NEW.id;
  -- Delivered to every LISTEN nova_event_stream after the commit, in commit order.
  PERFORM pg_notify('nova_event_stream', json_build_object(
    'source', TG_TABLE_NAME,
    'merchantId', NEW.merchant_id,
    'position', next_position::text)::text);
  RETURN NULL;
END
$$;

-- Deferred: fires as the transaction commits, after all its work.
CREATE CONSTRAINT TRIGGER "outbox_events_stream_position"
  AFTER INSERT ON "outbox_events" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "assign_event_stream_position"();
