import { Counter, Gauge } from 'prom-client';
import { apiMetrics } from './http-metrics';

/** Why a stream ended: the client went away, it did not read (slow), or this API stopped. */
export type EventStreamEndReason = 'client' | 'slow' | 'shutdown';

const clients = new Gauge({
  name: 'nova_event_stream_clients',
  help: 'Clients connected to GET /v1/events/stream on this API process.',
  registers: [apiMetrics],
});

const disconnects = new Counter({
  name: 'nova_event_stream_disconnects_total',
  help: 'Event streams ended, by reason: client (it closed), slow (it read nothing for a heartbeat interval while events waited: disconnected, it resumes by Last-Event-ID), shutdown (this API stopped).',
  labelNames: ['reason'] as const,
  registers: [apiMetrics],
});

const listenConnected = new Gauge({
  name: 'nova_event_stream_listen_connected',
  help: "1 while this API process's LISTEN connection to PostgreSQL is up (events reach its streams), 0 while it reconnects.",
  registers: [apiMetrics],
});

// Every reason exported from the start, so that a rate() over it has a series before the first one.
for (const reason of ['client', 'slow', 'shutdown'] satisfies EventStreamEndReason[]) disconnects.inc({ reason }, 0);

export function recordEventStreamConnected(): void {
  clients.inc();
}

export function recordEventStreamEnded(reason: EventStreamEndReason): void {
  clients.dec();
  disconnects.inc({ reason });
}

export function recordEventStreamListen(connected: boolean): void {
  listenConnected.set(connected ? 1 : 0);
}
