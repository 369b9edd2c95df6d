/**
 * The issuance benchmark's load: POST /v1/rewards/issuances at an open-loop rate or with a
 * closed-loop concurrency, and the poller that sees each issuance confirmed (or failed)
 * through the list endpoint, one request per tick.
 */
import { performance } from 'node:perf_hooks';
import type { Keypair } from '@stellar/stellar-sdk';
import { expectStatus, http, type HttpResult } from './issuance-common';

/** Every reward of the benchmark pays this much NOVA. */
export const AMOUNT = '1.25';
const POLL_PAGE_SIZE = 100;
/** One tick in this many polls the failed list instead of the confirmed one. */
const FAILED_POLL_EVERY = 8;

export interface IssuanceRecord {
  index: number;
  wallet: string;
  sentAt?: number;
  /** Until the response body of the 202 was read, in ms (performance.now()). */
  acceptMs?: number;
  acceptedAt?: number;
  /** POST attempts (a network error is retried with the same Idempotency-Key). */
  posts: number;
  id?: string;
  createdAt?: number;
  refused?: string;
  /** When the poller saw it confirmed. */
  observedAt?: number;
  /** When the worker wrote it confirmed (the issuance's updatedAt). */
  confirmedAt?: number;
  txHash?: string;
  failure?: string;
}

export interface IssuanceView {
  id: string;
  status: string;
  txHash: string | null;
  createdAt: string;
  updatedAt: string;
  failure: { type: string; message: string } | null;
}

export interface Page {
  data: IssuanceView[];
  nextCursor: string | null;
}

export class IssuanceTracker {
  readonly records: IssuanceRecord[];
  private readonly byId = new Map<string, IssuanceRecord>();
  /** Accepted and neither confirmed nor failed yet. */
  private readonly open = new Map<string, IssuanceRecord>();
  private cursor: string | undefined;
  private ticks = 0;
  polls = 0;
  confirmed = 0;
  failed = 0;

  constructor(
    wallets: readonly Keypair[],
    private readonly apiUrl: string,
    private readonly apiKey: string,
  ) {
    this.records = wallets.map((wallet, index) => ({ index, wallet: wallet.publicKey(), posts: 0 }));
  }

  get accepted(): number {
    return this.records.filter((record) => record.id !== undefined).length;
  }

  get refused(): number {
    return this.records.filter((record) => record.refused !== undefined).length;
  }

  get inFlight(): number {
    return this.open.size;
  }

  accept(record: IssuanceRecord, view: IssuanceView): void {
    record.id = view.id;
    record.createdAt = Date.parse(view.createdAt);
    this.byId.set(view.id, record);
    if (record.observedAt === undefined && record.failure === undefined) this.open.set(view.id, record);
  }

  /**
   * One request per tick. The confirmed list is newest first; a walk goes down from the top
   * only until it passes the oldest issuance still open (everything older was seen), so it
   * is short when confirmations keep up, and it starts over from the top when done.
   */
  async poll(): Promise<void> {
    this.ticks += 1;
    const lookForFailures = this.ticks % FAILED_POLL_EVERY === 0;
    const query = lookForFailures
      ? `status=failed&limit=${POLL_PAGE_SIZE}`
      : `status=confirmed&limit=${POLL_PAGE_SIZE}${this.cursor ? `&cursor=${encodeURIComponent(this.cursor)}` : ''}`;
    this.polls += 1;
    const page = await expectStatus(
      'GET /v1/rewards/issuances',
      200,
      http<Page>('GET', `${this.apiUrl}/v1/rewards/issuances?${query}`, { apiKey: this.apiKey }),
    );
    const now = Date.now();
    for (const view of page.data) {
      const record = this.byId.get(view.id);
      if (!record || !this.open.has(view.id)) continue;
      this.open.delete(view.id);
      if (view.status === 'confirmed') {
        record.observedAt = now;
        record.confirmedAt = Date.parse(view.updatedAt);
        record.txHash = view.txHash ?? undefined;
        this.confirmed += 1;
      } else {
        record.failure = view.failure ? `${view.failure.type}: ${view.failure.message}` : view.status;
        this.failed += 1;
      }
    }
    if (lookForFailures) return;
    let oldestOpen = Infinity;
    for (const record of this.open.values()) oldestOpen = Math.min(oldestOpen, record.createdAt ?? Infinity);
    const last = page.data[page.data.length - 1];
    const walkedPastOpen = last === undefined || Date.parse(last.createdAt) < oldestOpen;
    this.cursor = page.nextCursor === null || walkedPastOpen ? undefined : page.nextCursor;
  }
}

export async function issueOne(
  tracker: IssuanceTracker,
  record: IssuanceRecord,
  context: { apiUrl: string; apiKey: string; campaignId: string; run: string },
): Promise<void> {
  const body = {
    campaignId: context.campaignId,
    walletAddress: record.wallet,
    amount: AMOUNT,
    reference: `bench-${context.run}-${record.index}`,
  };
  record.sentAt = Date.now();
  const started = performance.now();
  for (;;) {
    record.posts += 1;
    let result: HttpResult<IssuanceView>;
    try {
      result = await http<IssuanceView>('POST', `${context.apiUrl}/v1/rewards/issuances`, {
        apiKey: context.apiKey,
        headers: { 'idempotency-key': `bench-${context.run}-${record.index}` },
        body,
      });
    } catch (error) {
      // The request may or may not have reached the API: the same Idempotency-Key makes a retry safe.
      if (record.posts < 3) continue;
      record.refused = `network: ${(error as Error).message}`;
      return;
    }
    // A retry of an attempt that is still running meets it in flight: ask again shortly.
    const reason = (result.body as unknown as { details?: { reason?: string } } | null)?.details?.reason;
    if (result.status === 409 && reason === 'IdempotencyKeyInFlight' && record.posts < 10) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    // 202, or the same 202 replayed: an earlier attempt of this request (lost on the way back) created it.
    if (result.status === 202) {
      record.acceptMs = performance.now() - started;
      record.acceptedAt = Date.now();
      tracker.accept(record, result.body);
    } else {
      record.refused = `${result.status} ${JSON.stringify(result.body).slice(0, 300)}`;
    }
    return;
  }
}

/** Open loop: request i is sent at start + i / rate, whether or not earlier ones were answered. */
export async function issueOpenLoop(
  tracker: IssuanceTracker,
  rate: number,
  issue: (record: IssuanceRecord) => Promise<void>,
): Promise<{ maxLagMs: number }> {
  const start = Date.now();
  const inFlight: Promise<void>[] = [];
  let maxLagMs = 0;
  for (const record of tracker.records) {
    const due = start + (record.index * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    maxLagMs = Math.max(maxLagMs, Date.now() - due);
    inFlight.push(issue(record));
  }
  await Promise.all(inFlight);
  return { maxLagMs };
}

/** Closed loop: `concurrency` clients, each sending its next request when the last one was answered. */
export async function issueClosedLoop(
  tracker: IssuanceTracker,
  concurrency: number,
  issue: (record: IssuanceRecord) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tracker.records.length) await issue(tracker.records[next++]!);
    }),
  );
}
