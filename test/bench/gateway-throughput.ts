// Run: npx tsc -b test && DATABASE_URL=postgresql://... BENCH_CHANNELS=8 BENCH_PAYMENTS=200 node test/dist/bench/gateway-throughput.js
/**
 * Throughput of the exactly-once payment path (a benchmark, not a test): an in-process
 * sandbox with 1 s ledgers, the REAL transaction journal (PaymentBatchSource,
 * PrismaJournalStore, PrismaChannelPool) against DATABASE_URL, BENCH_PAYMENTS wallets with trustlines, then one
 * payment to each, all at once, each retried on retryable errors as Temporal would under the
 * `stellarSubmit` activity profile. Wallet setup is not timed.
 *
 * Env: DATABASE_URL (required; migrations applied), BENCH_PAYMENTS (200), BENCH_CHANNELS (8),
 * BENCH_DB_POOL (10, the worker's default), BENCH_CHANNEL_WAIT_MS (how long one pay() call waits for a
 * free channel before failing retryably; the payment source's default when unset), BENCH_BATCH (payments
 * per transaction at most; 100, Stellar's limit; 1 turns batching off). Exits 0 when every
 * wallet received exactly one payment.
 */
import { randomUUID } from 'node:crypto';
import { msToNumber } from '@temporalio/common/lib/time';
import { toStroops } from '@nova/domain';
import { createPrismaClient } from '@nova/db';
import {
  PaymentBatchSource,
  PrismaChannelPool,
  PrismaJournalStore,
  StellarError,
  StellarGateway,
  StellarUnavailableError,
  systemClock,
  TransactionRejectedError,
  TransactionJournal,
  type JournalConfirmation,
  type PaymentRequest,
} from '@nova/activities';
import { activityProfiles } from '@nova/workflows/definitions';
import { createWallets, startStellarFixture, type StellarFixture } from '../support/stellar';

const LEDGER_INTERVAL_MS = 1_000;
const SANDBOX_SUBMIT_TIMEOUT_MS = 30_000;
/** The worker's values (apps/worker/src/stellar.ts and the config defaults). */
const TRANSACTION_TIMEOUT_SECONDS = 30;
const LEASE_MARGIN_SECONDS = 15;
const MAX_FEE_PER_OPERATION = 10_000;

const RETRY = activityProfiles.stellarSubmit.retry;
const INITIAL_INTERVAL_MS = msToNumber(RETRY.initialInterval);
const MAXIMUM_INTERVAL_MS = msToNumber(RETRY.maximumInterval);

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`${name} must be a positive integer, got "${raw}"\n`);
    process.exit(2);
  }
  return value;
}

function say(message: string): void {
  process.stdout.write(`[bench] ${message}\n`);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Temporal's delay before the next attempt: the server's Retry-After if given, else exponential backoff. */
function retryDelayMs(failedAttempts: number, error: StellarError): number {
  if (error instanceof StellarUnavailableError && error.retryAfterSeconds !== undefined) {
    return error.retryAfterSeconds * 1000;
  }
  return Math.min(INITIAL_INTERVAL_MS * RETRY.backoffCoefficient ** (failedAttempts - 1), MAXIMUM_INTERVAL_MS);
}

interface Outcome {
  request: PaymentRequest;
  confirmation?: JournalConfirmation;
  finalError?: string;
  attempts: number;
  /** From the start of the run (every payment starts then) to its confirmation. */
  latencyMs: number;
  /** The duration of the attempt that succeeded (channel wait, build, submit, inclusion). */
  lastAttemptMs: number;
}

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    process.stderr.write('DATABASE_URL must point at a PostgreSQL with the migrations applied\n');
    process.exit(2);
  }
  const payments = positiveInt('BENCH_PAYMENTS', 200);
  const channelCount = positiveInt('BENCH_CHANNELS', 8);
  const dbPool = positiveInt('BENCH_DB_POOL', 10);
  const channelWaitMs =
    process.env.BENCH_CHANNEL_WAIT_MS === undefined ? undefined : positiveInt('BENCH_CHANNEL_WAIT_MS', 5_000);
  const batchSize = positiveInt('BENCH_BATCH', 100);
  const run = randomUUID().slice(0, 6);

  say(
    `sandbox: ${LEDGER_INTERVAL_MS} ms ledgers, submit timeout ${SANDBOX_SUBMIT_TIMEOUT_MS} ms; ` +
      `${payments} payments, ${channelCount} channel account(s), up to ${batchSize} per transaction, ` +
      `database pool ${dbPool}, ` +
      `channel wait ${channelWaitMs === undefined ? 'default' : `${channelWaitMs} ms`}`,
  );
  const fixture: StellarFixture = await startStellarFixture({
    ledgerIntervalMs: LEDGER_INTERVAL_MS,
    submitTimeoutMs: SANDBOX_SUBMIT_TIMEOUT_MS,
    channelAccounts: channelCount,
  });
  const db = createPrismaClient({ databaseUrl, poolSize: dbPool });
  const channelKeys = [...fixture.channelSigners.keys()].slice(0, channelCount);
  let ticker: NodeJS.Timeout | undefined;
  try {
    say(`sandbox at ${fixture.sandbox.url}`);
    // The gateway as the worker builds it: production timeouts, not the tests' short ones.
    const gateway = new StellarGateway(fixture.gateway.network);
    const channels = new PrismaChannelPool(db, systemClock, channelKeys);
    await channels.register();
    const journal = new TransactionJournal({
      gateway,
      store: new PrismaJournalStore(db),
      leases: channels,
      clock: systemClock,
      feeBumpSource: fixture.distribution,
      maxFeePerOperation: MAX_FEE_PER_OPERATION,
    });
    const submitter = new PaymentBatchSource({
      journal,
      gateway,
      channels,
      distribution: fixture.distribution,
      channelSigners: new Map(channelKeys.map((key) => [key, fixture.channelSigners.get(key)!])),
      clock: systemClock,
      transactionTimeoutSeconds: TRANSACTION_TIMEOUT_SECONDS,
      leaseMarginSeconds: LEASE_MARGIN_SECONDS,
      maxFeePerOperation: MAX_FEE_PER_OPERATION,
      ...(channelWaitMs === undefined ? {} : { channelWaitMs }),
      maxPaymentsPerTransaction: batchSize,
    });

    const setupStarted = Date.now();
    const wallets = [];
    for (let created = 0; created < payments;) {
      const batch = Math.min(80, payments - created);
      wallets.push(...(await createWallets(fixture, batch)));
      created += batch;
      say(`wallets with trustlines: ${created}/${payments}`);
    }
    say(`wallet setup took ${seconds(Date.now() - setupStarted)} (not counted)`);

    const requests: PaymentRequest[] = wallets.map((wallet, i) => ({
      businessKey: `bench-${run}/${i}`,
      destination: wallet.publicKey(),
      amount: toStroops('1.25'),
      memo: `bench-${run}-${i}`,
    }));
    const retriesByType = new Map<string, number>();
    let paid = 0;
    let failed = 0;
    let retries = 0;
    const started = Date.now();
    ticker = setInterval(() => {
      say(`paid ${paid}/${payments}, failed ${failed}, retries ${retries}, ${seconds(Date.now() - started)}`);
    }, 2_000);

    const payDurably = async (request: PaymentRequest): Promise<Outcome> => {
      for (let attempts = 1; ; attempts++) {
        const attemptStarted = Date.now();
        try {
          const confirmation = await submitter.pay(request);
          paid += 1;
          const now = Date.now();
          return { request, confirmation, attempts, latencyMs: now - started, lastAttemptMs: now - attemptStarted };
        } catch (error) {
          if (!(error instanceof StellarError) || !error.retryable) {
            failed += 1;
            const finalError = error instanceof StellarError ? `${error.type}: ${error.message}` : String(error);
            return { request, finalError, attempts, latencyMs: Date.now() - started, lastAttemptMs: 0 };
          }
          retries += 1;
          const kind =
            error instanceof TransactionRejectedError ? `${error.type}(${error.resultCodes.transaction})` : error.type;
          retriesByType.set(kind, (retriesByType.get(kind) ?? 0) + 1);
          await new Promise((resolve) => setTimeout(resolve, retryDelayMs(attempts, error)));
        }
      }
    };
    const outcomes = await Promise.all(requests.map((request) => payDurably(request)));
    const wallMs = Date.now() - started;
    clearInterval(ticker);
    say(`paid ${paid}/${payments}, failed ${failed}, retries ${retries}, ${seconds(wallMs)}`);

    say('checking the ledger: every wallet must have received exactly one payment');
    const landing: Array<{ key: string; received: number }> = [];
    for (let at = 0; at < requests.length; at += 25) {
      const slice = requests.slice(at, at + 25);
      landing.push(
        ...(await Promise.all(
          slice.map(async (request) => ({
            key: request.businessKey,
            received: (await fixture.gateway.paymentsTo(request.destination)).length,
          })),
        )),
      );
    }
    const wrong = landing.filter((l) => l.received !== 1);

    const ours = { transaction: { items: { some: { businessKey: { startsWith: `bench-${run}/` } } } } };
    const confirmed = (
      await db.journalItem.findMany({
        where: { businessKey: { startsWith: `bench-${run}/` }, transaction: { status: 'landed' } },
        select: { transaction: { select: { id: true, sourceAccount: true, ledger: true } } },
      })
    ).map(({ transaction }) => ({
      envelope: { id: transaction.id, channelAccount: transaction.sourceAccount, ledger: transaction.ledger },
    }));
    const envelopeCount = await db.journalTransaction.count({ where: ours.transaction });
    const perLedger = new Map<number, number>();
    const perChannelLedger = new Map<string, Set<string>>();
    for (const { envelope } of confirmed) {
      perLedger.set(envelope.ledger ?? 0, (perLedger.get(envelope.ledger ?? 0) ?? 0) + 1);
      const key = `${envelope.channelAccount}@${envelope.ledger}`;
      perChannelLedger.set(key, (perChannelLedger.get(key) ?? new Set()).add(envelope.id));
    }
    const transactionsPerChannelLedger = [...perChannelLedger.values()].map((ids) => ids.size);
    const ledgers = [...perLedger.keys()];
    const spanned = ledgers.length > 0 ? Math.max(...ledgers) - Math.min(...ledgers) + 1 : 0;
    const latencies = outcomes
      .filter((o) => o.confirmation)
      .map((o) => o.latencyMs)
      .sort((a, b) => a - b);
    const attemptDurations = outcomes
      .filter((o) => o.confirmation)
      .map((o) => o.lastAttemptMs)
      .sort((a, b) => a - b);
    const attempts = outcomes.map((o) => o.attempts).sort((a, b) => a - b);

    say('---- results ----');
    say(
      `channel accounts configured: ${channelCount}; used: ${new Set(confirmed.map((c) => c.envelope.channelAccount)).size}`,
    );
    say(`payments: ${payments} (confirmed ${paid}, failed ${failed}); envelopes built: ${envelopeCount}`);
    say(`wall time (payments only): ${seconds(wallMs)}`);
    say(`sustained throughput: ${(paid / (wallMs / 1000)).toFixed(2)} payments/s`);
    say(
      `payment latency (start -> confirmed): p50 ${seconds(percentile(latencies, 50))}, ` +
        `p95 ${seconds(percentile(latencies, 95))}, p99 ${seconds(percentile(latencies, 99))}`,
    );
    say(
      `successful attempt (channel wait -> confirmed): p50 ${seconds(percentile(attemptDurations, 50))}, ` +
        `p95 ${seconds(percentile(attemptDurations, 95))}, p99 ${seconds(percentile(attemptDurations, 99))}`,
    );
    say(
      `attempts per payment: p50 ${percentile(attempts, 50)}, max ${attempts[attempts.length - 1] ?? 0}; ` +
        `retries by type: ${JSON.stringify(Object.fromEntries(retriesByType))}`,
    );
    say(
      `ledgers: ${perLedger.size} with payments over a span of ${spanned}; per ledger max ` +
        `${Math.max(0, ...perLedger.values())}, mean ${(paid / Math.max(1, spanned)).toFixed(2)}; ` +
        `transactions per channel per ledger max ${Math.max(0, ...transactionsPerChannelLedger)}; ` +
        `payments per transaction mean ${(paid / Math.max(1, envelopeCount)).toFixed(2)}`,
    );
    for (const outcome of outcomes.filter((o) => o.finalError).slice(0, 5)) {
      say(`failed ${outcome.request.businessKey}: ${outcome.finalError}`);
    }
    if (wrong.length === 0 && failed === 0) {
      say(`exactly once: OK (${landing.length} wallets, each received one payment)`);
    } else {
      say(`exactly once: FAILED (${wrong.length} wallets wrong, ${failed} payments failed)`);
      for (const l of wrong.slice(0, 10)) say(`  ${l.key}: ${l.received} payments received`);
      process.exitCode = 1;
    }

    // The benchmark's rows are throwaway: leave the shared database as it was.
    await db.journalAttempt.deleteMany({ where: ours });
    const envelopeIds = (await db.journalTransaction.findMany({ where: ours.transaction, select: { id: true } })).map(
      (e) => e.id,
    );
    await db.journalItem.deleteMany({ where: { transactionId: { in: envelopeIds } } });
    await db.journalTransaction.deleteMany({ where: { id: { in: envelopeIds } } });
    await db.channelAccount.deleteMany({ where: { publicKey: { in: channelKeys } } });
  } finally {
    clearInterval(ticker);
    say('stopping the sandbox');
    await fixture.stop();
    await db.$disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
