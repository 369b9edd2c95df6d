/**
 * The Horizon subset: root, accounts, payments, transactions (lookup and submission, sync
 * and async), ledgers, fee stats and friendbot, with Horizon's status codes and problems.
 */
import { StrKey, xdr } from '@stellar/stellar-sdk';
import {
  accountJson,
  feeStatsJson,
  isoTime,
  ledgerJson,
  ledgerPagingToken,
  paymentJson,
  problems,
  transactionJson,
  transactionPagingToken,
  type Problem,
} from './horizon-json';
import { FRIENDBOT_STARTING_BALANCE, fundingTransaction, rootKeypair } from './genesis';
import { readBody, sendHal, sendJson, sendProblem, type CancellableSleeps, type RequestContext } from './http-kit';
import type { InclusionOutcome, LedgerCloser } from './ledger-closer';
import { PROTOCOL_VERSION } from './ledger-closer';
import type { LedgerState, TransactionRecord } from './ledger-state';
import type { SubmissionDecision, TransactionSubmitter } from './submission';

export const HORIZON_VERSION = 'nova-stellar-sandbox-0.1.0';

export interface HorizonDependencies {
  state: LedgerState;
  closer: LedgerCloser;
  submitter: TransactionSubmitter;
  sleeps: CancellableSleeps;
  submitTimeoutMs: number;
  networkPassphrase: string;
  /** The sandbox's own facts (accounts, contracts) added to GET /. */
  sandboxInfo: () => Record<string, unknown>;
  /** Leaves the request unanswered (stopResponding). */
  hang: (ctx: RequestContext) => void;
}

type Handler = (ctx: RequestContext, deps: HorizonDependencies, params: string[]) => Promise<void> | void;

const routes: Array<{ method: string; pattern: RegExp; handler: Handler }> = [
  { method: 'GET', pattern: /^\/$/, handler: root },
  { method: 'GET', pattern: /^\/accounts\/([^/]+)$/, handler: account },
  { method: 'GET', pattern: /^\/accounts\/([^/]+)\/payments$/, handler: accountPayments },
  { method: 'GET', pattern: /^\/accounts\/([^/]+)\/transactions$/, handler: accountTransactions },
  { method: 'GET', pattern: /^\/transactions$/, handler: allTransactions },
  { method: 'GET', pattern: /^\/transactions\/([^/]+)$/, handler: transaction },
  { method: 'GET', pattern: /^\/transactions\/([^/]+)\/payments$/, handler: transactionPayments },
  { method: 'POST', pattern: /^\/transactions$/, handler: submitSync },
  { method: 'POST', pattern: /^\/transactions_async$/, handler: submitAsync },
  { method: 'GET', pattern: /^\/operations\/([^/]+)$/, handler: operation },
  { method: 'GET', pattern: /^\/payments$/, handler: allPayments },
  { method: 'GET', pattern: /^\/ledgers$/, handler: ledgers },
  { method: 'GET', pattern: /^\/ledgers\/([^/]+)$/, handler: ledger },
  { method: 'GET', pattern: /^\/ledgers\/([^/]+)\/transactions$/, handler: ledgerTransactions },
  { method: 'GET', pattern: /^\/fee_stats$/, handler: feeStats },
  { method: 'GET', pattern: /^\/friendbot$/, handler: friendbot },
  { method: 'POST', pattern: /^\/friendbot$/, handler: friendbot },
];

/** Answers the request if it is a Horizon route; false otherwise. */
export async function routeHorizon(ctx: RequestContext, deps: HorizonDependencies): Promise<boolean> {
  const path = ctx.url.pathname.length > 1 ? ctx.url.pathname.replace(/\/+$/, '') : ctx.url.pathname;
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    if (route.method !== ctx.req.method) continue;
    await route.handler(
      ctx,
      deps,
      match.slice(1).map((part) => decodeURIComponent(part)),
    );
    return true;
  }
  return false;
}

function root(ctx: RequestContext, deps: HorizonDependencies): void {
  const base = ctx.base;
  const latest = deps.state.latestLedger();
  sendHal(ctx.res, 200, {
    _links: {
      account: { href: `${base}/accounts/{account_id}`, templated: true },
      accounts: { href: `${base}/accounts{?signer,sponsor,asset,liquidity_pool,cursor,limit,order}`, templated: true },
      fee_stats: { href: `${base}/fee_stats` },
      friendbot: { href: `${base}/friendbot{?addr}`, templated: true },
      ledger: { href: `${base}/ledgers/{sequence}`, templated: true },
      ledgers: { href: `${base}/ledgers{?cursor,limit,order}`, templated: true },
      operation: { href: `${base}/operations/{id}`, templated: true },
      payments: { href: `${base}/payments{?cursor,limit,order,include_failed}`, templated: true },
      self: { href: `${base}/` },
      transaction: { href: `${base}/transactions/{hash}`, templated: true },
      transactions: { href: `${base}/transactions{?cursor,limit,order}`, templated: true },
    },
    horizon_version: HORIZON_VERSION,
    core_version: HORIZON_VERSION,
    ingest_latest_ledger: latest.sequence,
    history_latest_ledger: latest.sequence,
    history_latest_ledger_closed_at: isoTime(latest.closedAt),
    history_elder_ledger: 1,
    core_latest_ledger: latest.sequence,
    network_passphrase: deps.networkPassphrase,
    current_protocol_version: PROTOCOL_VERSION,
    supported_protocol_version: PROTOCOL_VERSION,
    core_supported_protocol_version: PROTOCOL_VERSION,
    sandbox: deps.sandboxInfo(),
  });
}

function invalidField(field: string, reason: string): Problem {
  return problems.badRequest('The request you sent was invalid in some way.', { invalid_field: field, reason });
}

function checkAccountId(ctx: RequestContext, id: string | undefined): id is string {
  if (id !== undefined && StrKey.isValidEd25519PublicKey(id)) return true;
  sendProblem(ctx.res, invalidField('account_id', 'Account ID must start with `G` and contain 56 alphanum characters'));
  return false;
}

function account(ctx: RequestContext, deps: HorizonDependencies, [id]: string[]): void {
  if (!checkAccountId(ctx, id)) return;
  const record = deps.state.account(id);
  if (!record) return sendProblem(ctx.res, problems.notFound());
  sendHal(ctx.res, 200, accountJson(ctx.base, deps.state, record));
}

interface PageParams {
  cursor?: bigint;
  order: 'asc' | 'desc';
  limit: number;
}

function pageParams(ctx: RequestContext): PageParams | undefined {
  const query = ctx.url.searchParams;
  const order = query.get('order') ?? 'asc';
  if (order !== 'asc' && order !== 'desc') {
    sendProblem(ctx.res, invalidField('order', 'order: invalid value; must be asc or desc'));
    return undefined;
  }
  const limitText = query.get('limit') ?? '10';
  const limit = /^\d+$/.test(limitText) ? Number(limitText) : NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
    sendProblem(ctx.res, invalidField('limit', 'limit: must be between 1 and 200'));
    return undefined;
  }
  const params: PageParams = { order, limit };
  const cursor = query.get('cursor');
  if (cursor !== null && cursor !== '') {
    if (cursor === 'now') {
      // "now" sits after every existing record: nothing yet ascending, everything descending.
      params.cursor = (1n << 63n) - 1n;
    } else if (/^\d+$/.test(cursor)) {
      params.cursor = BigInt(cursor);
    } else {
      sendProblem(ctx.res, invalidField('cursor', 'cursor: must be a paging token'));
      return undefined;
    }
  }
  return params;
}

/** `records` sorted ascending by `tokenOf`. */
function pageOf<T>(records: readonly T[], tokenOf: (record: T) => bigint, params: PageParams): T[] {
  const { cursor, order, limit } = params;
  if (order === 'asc') {
    let low = 0;
    if (cursor !== undefined) {
      let high = records.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (tokenOf(records[mid] as T) <= cursor) low = mid + 1;
        else high = mid;
      }
    }
    return records.slice(low, low + limit);
  }
  let end = records.length;
  if (cursor !== undefined) {
    let low = 0;
    while (low < end) {
      const mid = (low + end) >>> 1;
      if (tokenOf(records[mid] as T) < cursor) low = mid + 1;
      else end = mid;
    }
  }
  return records.slice(Math.max(0, end - limit), end).reverse();
}

function sendPage<T>(
  ctx: RequestContext,
  params: PageParams,
  page: T[],
  tokenOf: (record: T) => bigint,
  render: (record: T) => unknown,
): void {
  const linkWith = (cursor: string, order: 'asc' | 'desc'): { href: string } => {
    const url = new URL(ctx.url.pathname + ctx.url.search, ctx.base);
    url.searchParams.set('cursor', cursor);
    url.searchParams.set('limit', String(params.limit));
    url.searchParams.set('order', order);
    return { href: url.toString() };
  };
  const first = page[0];
  const last = page[page.length - 1];
  const reversed = params.order === 'asc' ? 'desc' : 'asc';
  sendHal(ctx.res, 200, {
    _links: {
      self: { href: new URL(ctx.url.pathname + ctx.url.search, ctx.base).toString() },
      next: linkWith(last !== undefined ? tokenOf(last).toString() : (params.cursor?.toString() ?? ''), params.order),
      prev: linkWith(first !== undefined ? tokenOf(first).toString() : (params.cursor?.toString() ?? ''), reversed),
    },
    _embedded: { records: page.map(render) },
  });
}

function includeFailed(ctx: RequestContext): boolean {
  return ctx.url.searchParams.get('include_failed') === 'true';
}

function joinTransactions(ctx: RequestContext): boolean {
  return ctx.url.searchParams.get('join') === 'transactions';
}

function accountPayments(ctx: RequestContext, deps: HorizonDependencies, [id]: string[]): void {
  if (!checkAccountId(ctx, id)) return;
  if (!deps.state.account(id) && deps.state.paymentsOf(id).length === 0)
    return sendProblem(ctx.res, problems.notFound());
  sendPayments(ctx, deps, deps.state.paymentsOf(id));
}

function allPayments(ctx: RequestContext, deps: HorizonDependencies): void {
  sendPayments(ctx, deps, deps.state.payments);
}

function sendPayments(
  ctx: RequestContext,
  deps: HorizonDependencies,
  all: ReturnType<LedgerState['paymentsOf']>,
): void {
  const params = pageParams(ctx);
  if (!params) return;
  const visible = includeFailed(ctx) ? all : all.filter((operation) => operation.transactionSuccessful);
  const join = joinTransactions(ctx);
  sendPage(
    ctx,
    params,
    pageOf(visible, (operation) => BigInt(operation.id), params),
    (operation) => BigInt(operation.id),
    (operation) => {
      const tx = join ? deps.state.transaction(operation.transactionHash) : undefined;
      return paymentJson(ctx.base, operation, tx ? transactionJson(ctx.base, tx) : undefined);
    },
  );
}

/**
 * A transaction's payments (Horizon's GET /transactions/:hash/payments): found by its hash or, for
 * a fee bump, by its inner hash as the transaction lookup is; 404 for an unknown transaction, a
 * failed one's only with include_failed (as the other payment lists).
 */
function transactionPayments(ctx: RequestContext, deps: HorizonDependencies, [hash]: string[]): void {
  if (hash === undefined || !/^[0-9a-fA-F]{64}$/.test(hash)) {
    return sendProblem(
      ctx.res,
      invalidField('tx_id', 'Transaction hash must be a hex-encoded, lowercase SHA-256 hash'),
    );
  }
  const record = deps.state.transaction(hash);
  if (!record) return sendProblem(ctx.res, problems.notFound());
  sendPayments(
    ctx,
    deps,
    deps.state.payments.filter((operation) => operation.transactionHash === record.hash),
  );
}

function operation(ctx: RequestContext, deps: HorizonDependencies, [id]: string[]): void {
  const found =
    id !== undefined && /^\d+$/.test(id) ? deps.state.payments.find((candidate) => candidate.id === id) : undefined;
  if (!found) return sendProblem(ctx.res, problems.notFound());
  sendHal(ctx.res, 200, paymentJson(ctx.base, found));
}

function sendTransactions(ctx: RequestContext, deps: HorizonDependencies, all: readonly TransactionRecord[]): void {
  const params = pageParams(ctx);
  if (!params) return;
  const visible = includeFailed(ctx) ? all : all.filter((record) => record.successful);
  sendPage(ctx, params, pageOf(visible, transactionPagingToken, params), transactionPagingToken, (record) =>
    transactionJson(ctx.base, record),
  );
}

function accountTransactions(ctx: RequestContext, deps: HorizonDependencies, [id]: string[]): void {
  if (!checkAccountId(ctx, id)) return;
  if (!deps.state.account(id) && deps.state.transactionsOf(id).length === 0)
    return sendProblem(ctx.res, problems.notFound());
  sendTransactions(ctx, deps, deps.state.transactionsOf(id));
}

function allTransactions(ctx: RequestContext, deps: HorizonDependencies): void {
  sendTransactions(ctx, deps, deps.state.transactions);
}

function ledgerTransactions(ctx: RequestContext, deps: HorizonDependencies, [sequence]: string[]): void {
  const found = sequence !== undefined && /^\d+$/.test(sequence) ? deps.state.ledger(Number(sequence)) : undefined;
  if (!found) return sendProblem(ctx.res, problems.notFound());
  const records = found.transactionHashes
    .map((hash) => deps.state.transaction(hash))
    .filter((record): record is TransactionRecord => record !== undefined);
  sendTransactions(ctx, deps, records);
}

function transaction(ctx: RequestContext, deps: HorizonDependencies, [hash]: string[]): void {
  if (hash === undefined || !/^[0-9a-fA-F]{64}$/.test(hash)) {
    return sendProblem(
      ctx.res,
      invalidField('tx_id', 'Transaction hash must be a hex-encoded, lowercase SHA-256 hash'),
    );
  }
  const record = deps.state.transaction(hash);
  if (!record) return sendProblem(ctx.res, problems.notFound());
  sendHal(ctx.res, 200, transactionJson(ctx.base, record, hash));
}

function ledgers(ctx: RequestContext, deps: HorizonDependencies): void {
  const params = pageParams(ctx);
  if (!params) return;
  const all = deps.state.ledgers;
  sendPage(ctx, params, pageOf(all, ledgerPagingToken, params), ledgerPagingToken, (record) =>
    ledgerJson(ctx.base, record),
  );
}

function ledger(ctx: RequestContext, deps: HorizonDependencies, [sequence]: string[]): void {
  const found = sequence !== undefined && /^\d+$/.test(sequence) ? deps.state.ledger(Number(sequence)) : undefined;
  if (!found) return sendProblem(ctx.res, problems.notFound());
  sendHal(ctx.res, 200, ledgerJson(ctx.base, found));
}

function feeStats(ctx: RequestContext, deps: HorizonDependencies): void {
  sendJson(ctx.res, 200, feeStatsJson(deps.state));
}

async function submittedEnvelope(ctx: RequestContext): Promise<string | undefined> {
  const body = await readBody(ctx.req);
  const contentType = ctx.req.headers['content-type'] ?? '';
  let tx: string | null | undefined;
  if (contentType.includes('application/json')) {
    try {
      const parsed = JSON.parse(body) as { tx?: unknown };
      tx = typeof parsed.tx === 'string' ? parsed.tx : undefined;
    } catch {
      tx = undefined;
    }
  } else {
    tx = new URLSearchParams(body).get('tx') ?? ctx.url.searchParams.get('tx');
  }
  if (!tx) {
    sendProblem(ctx.res, invalidField('tx', 'Missing parameter tx (a base64 TransactionEnvelope)'));
    return undefined;
  }
  return tx;
}

function sendRateLimited(ctx: RequestContext, retryAfterSeconds: number): void {
  sendProblem(ctx.res, problems.rateLimitExceeded(), {
    'Retry-After': String(retryAfterSeconds),
    'X-Ratelimit-Limit': '3600',
    'X-Ratelimit-Remaining': '0',
    'X-Ratelimit-Reset': String(retryAfterSeconds),
  });
}

/** POST /transactions: waits for inclusion like Horizon, answering 200, 400 or 504. */
async function submitSync(ctx: RequestContext, deps: HorizonDependencies): Promise<void> {
  const envelopeXdr = await submittedEnvelope(ctx);
  if (envelopeXdr === undefined) return;
  await answerSyncDecision(ctx, deps, deps.submitter.submit(envelopeXdr));
}

async function answerSyncDecision(
  ctx: RequestContext,
  deps: HorizonDependencies,
  decision: SubmissionDecision,
): Promise<void> {
  switch (decision.kind) {
    case 'malformed':
      return sendProblem(ctx.res, problems.transactionMalformed(decision.envelopeXdr));
    case 'hang':
      return deps.hang(ctx);
    case 'rateLimited':
      return sendRateLimited(ctx, decision.retryAfterSeconds);
    case 'known':
      return sendTransactionRecord(ctx, decision.record, decision.hash);
    case 'pending':
      return sendInclusion(
        ctx,
        await deps.closer.waitFor(decision.pending, deps.submitTimeoutMs),
        decision.hash,
        false,
      );
    case 'rejected':
      return sendProblem(ctx.res, problems.transactionFailed(decision.envelopeXdr, decision.result));
    case 'tryAgainLater':
      // Horizon's synchronous path does not surface core's TRY_AGAIN_LATER: it waits, then times out.
      await deps.sleeps.sleep(deps.submitTimeoutMs);
      return sendProblem(ctx.res, problems.timeout());
    case 'accepted':
      if (!decision.pending) {
        await deps.sleeps.sleep(deps.submitTimeoutMs);
        return sendProblem(ctx.res, problems.timeout());
      }
      return sendInclusion(
        ctx,
        await deps.closer.waitFor(decision.pending, deps.submitTimeoutMs),
        decision.hash,
        decision.respond504,
        decision.envelopeXdr,
      );
  }
}

function sendInclusion(
  ctx: RequestContext,
  outcome: InclusionOutcome | { kind: 'timeout' },
  hash: string,
  respond504: boolean,
  envelopeXdr?: string,
): void {
  switch (outcome.kind) {
    case 'applied':
      // respond504ButApply: the transaction is in the ledger, the client only sees a gateway timeout.
      if (respond504) return sendProblem(ctx.res, problems.timeout());
      return sendTransactionRecord(ctx, outcome.record, hash);
    case 'rejected':
      return sendProblem(ctx.res, problems.transactionFailed(envelopeXdr ?? '', outcome.result));
    case 'timeout':
    case 'shutdown':
      return sendProblem(ctx.res, problems.timeout());
  }
}

function sendTransactionRecord(ctx: RequestContext, record: TransactionRecord, requestedHash: string): void {
  if (record.successful) return sendHal(ctx.res, 200, transactionJson(ctx.base, record, requestedHash));
  sendProblem(
    ctx.res,
    problems.transactionFailed(record.envelopeXdr, xdr.TransactionResult.fromXDR(record.resultXdr, 'base64')),
  );
}

/** POST /transactions_async: core's verdict right away (201 PENDING, 409 DUPLICATE, 400 ERROR, 503 TRY_AGAIN_LATER). */
async function submitAsync(ctx: RequestContext, deps: HorizonDependencies): Promise<void> {
  const envelopeXdr = await submittedEnvelope(ctx);
  if (envelopeXdr === undefined) return;
  const decision = deps.submitter.submit(envelopeXdr);
  switch (decision.kind) {
    case 'malformed':
      return sendProblem(ctx.res, problems.transactionMalformed(decision.envelopeXdr));
    case 'hang':
      return deps.hang(ctx);
    case 'rateLimited':
      return sendRateLimited(ctx, decision.retryAfterSeconds);
    case 'known':
    case 'pending':
      return sendJson(ctx.res, 409, { tx_status: 'DUPLICATE', hash: decision.hash });
    case 'rejected':
      return sendJson(ctx.res, 400, {
        tx_status: 'ERROR',
        hash: decision.hash,
        error_result_xdr: decision.result.toXDR('base64'),
      });
    case 'tryAgainLater':
      return sendJson(ctx.res, 503, { tx_status: 'TRY_AGAIN_LATER', hash: decision.hash });
    case 'accepted':
      if (decision.respond504) return sendProblem(ctx.res, problems.timeout());
      return sendJson(ctx.res, 201, { tx_status: 'PENDING', hash: decision.hash });
  }
}

/** Creates and funds an account with 10,000 XLM from the root account, answering the transaction. */
async function friendbot(ctx: RequestContext, deps: HorizonDependencies): Promise<void> {
  const address = ctx.url.searchParams.get('addr');
  if (!address || !StrKey.isValidEd25519PublicKey(address)) {
    return sendProblem(ctx.res, invalidField('addr', 'addr must be a G... account id'));
  }
  if (deps.state.account(address)) {
    return sendProblem(
      ctx.res,
      problems.badRequest('account already funded to starting balance', { invalid_field: 'addr' }),
    );
  }
  const root = rootKeypair(deps.networkPassphrase).publicKey();
  const transaction = fundingTransaction(deps.networkPassphrase, deps.closer.currentSequence(root), [
    { accountId: address, startingBalance: FRIENDBOT_STARTING_BALANCE },
  ]);
  const decision = deps.submitter.submit(transaction.toEnvelope().toXDR('base64'), { applyFaults: false });
  await answerSyncDecision(ctx, deps, decision);
}
