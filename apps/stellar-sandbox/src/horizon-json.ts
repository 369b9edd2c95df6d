/**
 * Horizon's JSON resources and problem documents, field for field, so Horizon.Server's
 * record parsing (_links -> functions, *_attr) behaves exactly as against the network.
 */
import { fromStroops } from '@nova/domain';
import type { xdr } from '@stellar/stellar-sdk';
import {
  toid,
  type AccountEntryRecord,
  type LedgerRecord,
  type LedgerState,
  type PaymentLikeOperationRecord,
  type TransactionRecord,
  type TrustlineEntryRecord,
} from './ledger-state';
import { horizonResultCodes } from './result-codes';

type Json = Record<string, unknown>;

const HORIZON_ERRORS = 'https://stellar.org/horizon-errors';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  extras?: Json;
}

export const problems = {
  notFound(): Problem {
    return {
      type: `${HORIZON_ERRORS}/not_found`,
      title: 'Resource Missing',
      status: 404,
      detail:
        'The resource at the url requested was not found.  This usually occurs for one of two reasons:  The url requested is not valid, or no data in our database could be found with the parameters provided.',
    };
  },
  badRequest(detail: string, extras?: Json): Problem {
    return {
      type: `${HORIZON_ERRORS}/bad_request`,
      title: 'Bad Request',
      status: 400,
      detail,
      ...(extras ? { extras } : {}),
    };
  },
  transactionMalformed(envelopeXdr: string): Problem {
    return {
      type: `${HORIZON_ERRORS}/transaction_malformed`,
      title: 'Transaction Malformed',
      status: 400,
      detail:
        'Horizon could not decode the transaction envelope in this request. A transaction should be an XDR TransactionEnvelope struct encoded using base64.  The envelope read from this request is echoed in the `extras.envelope_xdr` field of this response for your convenience.',
      extras: { envelope_xdr: envelopeXdr },
    };
  },
  transactionFailed(envelopeXdr: string, result: xdr.TransactionResult): Problem {
    return {
      type: `${HORIZON_ERRORS}/transaction_failed`,
      title: 'Transaction Failed',
      status: 400,
      detail:
        'The transaction failed when submitted to the stellar network. The `extras.result_codes` field on this response contains further details.  Descriptions of each code can be found at: https://developers.stellar.org/docs/data/apis/horizon/api-reference/errors/http-status-codes/horizon-specific/transaction-failed',
      extras: {
        envelope_xdr: envelopeXdr,
        result_codes: horizonResultCodes(result),
        result_xdr: result.toXDR('base64'),
      },
    };
  },
  timeout(): Problem {
    return {
      type: `${HORIZON_ERRORS}/timeout`,
      title: 'Timeout',
      status: 504,
      detail:
        'Your request timed out before completing.  Please try your request again. If you are submitting a transaction make sure you are sending exactly the same transaction (with the same sequence number).',
    };
  },
  rateLimitExceeded(): Problem {
    return {
      type: `${HORIZON_ERRORS}/rate_limit_exceeded`,
      title: 'Rate Limit Exceeded',
      status: 429,
      detail:
        "The rate limit for the requesting IP address is over its alloted limit.  The allowed limit and requests left per time period are communicated to clients via the http response headers 'X-RateLimit-*' headers.",
    };
  },
  serverError(detail: string): Problem {
    return { type: `${HORIZON_ERRORS}/server_error`, title: 'Internal Server Error', status: 500, detail };
  },
};

export function isoTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function link(href: string, templated = false): Json {
  return templated ? { href, templated: true } : { href };
}

function ledgerCloseTime(state: LedgerState, sequence: number): string {
  const ledger = state.ledger(sequence);
  return ledger ? isoTime(ledger.closedAt) : isoTime(0);
}

export function accountJson(base: string, state: LedgerState, account: AccountEntryRecord): Json {
  const id = account.accountId;
  const self = `${base}/accounts/${id}`;
  const json: Json = {
    _links: {
      self: link(self),
      transactions: link(`${self}/transactions{?cursor,limit,order}`, true),
      operations: link(`${self}/operations{?cursor,limit,order}`, true),
      payments: link(`${self}/payments{?cursor,limit,order}`, true),
      effects: link(`${self}/effects{?cursor,limit,order}`, true),
      offers: link(`${self}/offers{?cursor,limit,order}`, true),
      trades: link(`${self}/trades{?cursor,limit,order}`, true),
      data: link(`${self}/data/{key}`, true),
    },
    id,
    account_id: id,
    sequence: account.seqNum.toString(),
    subentry_count: account.numSubEntries,
    last_modified_ledger: account.lastModifiedLedger,
    last_modified_time: ledgerCloseTime(state, account.lastModifiedLedger),
    thresholds: { low_threshold: 0, med_threshold: 0, high_threshold: 0 },
    flags: { auth_required: false, auth_revocable: false, auth_immutable: false, auth_clawback_enabled: false },
    balances: [...state.trustlinesOf(id).map(trustlineBalanceJson), nativeBalanceJson(account)],
    signers: [{ weight: 1, key: id, type: 'ed25519_public_key' }],
    data: {},
    num_sponsoring: 0,
    num_sponsored: 0,
    paging_token: id,
  };
  if (account.seqLedger > 0) {
    json.sequence_ledger = account.seqLedger;
    json.sequence_time = account.seqTime.toString();
  }
  return json;
}

function nativeBalanceJson(account: AccountEntryRecord): Json {
  return {
    balance: fromStroops(account.balance),
    buying_liabilities: '0.0000000',
    selling_liabilities: '0.0000000',
    asset_type: 'native',
  };
}

function trustlineBalanceJson(line: TrustlineEntryRecord): Json {
  const authorized = (line.flags & 1) !== 0;
  return {
    balance: fromStroops(line.balance),
    limit: fromStroops(line.limit),
    buying_liabilities: '0.0000000',
    selling_liabilities: '0.0000000',
    last_modified_ledger: line.lastModifiedLedger,
    is_authorized: authorized,
    is_authorized_to_maintain_liabilities: authorized,
    is_clawback_enabled: false,
    asset_type: assetType(line.assetCode),
    asset_code: line.assetCode,
    asset_issuer: line.assetIssuer,
  };
}

function assetType(code: string): string {
  return code.length <= 4 ? 'credit_alphanum4' : 'credit_alphanum12';
}

export function transactionPagingToken(record: TransactionRecord): bigint {
  return toid(record.ledger, record.applicationOrder, 0);
}

/**
 * `requestedHash` is the hash the client asked for: looking a fee bump up by its inner hash
 * answers with the inner hash, max fee and signatures, as Horizon does.
 */
export function transactionJson(base: string, record: TransactionRecord, requestedHash?: string): Json {
  const viaInner = record.innerHash !== undefined && requestedHash?.toLowerCase() === record.innerHash;
  const hash = viaInner && record.innerHash ? record.innerHash : record.hash;
  const self = `${base}/transactions/${hash}`;
  const pagingToken = transactionPagingToken(record).toString();
  const json: Json = {
    memo_type: record.memoType,
    _links: {
      self: link(self),
      account: link(`${base}/accounts/${record.sourceAccount}`),
      ledger: link(`${base}/ledgers/${record.ledger}`),
      operations: link(`${self}/operations{?cursor,limit,order}`, true),
      effects: link(`${self}/effects{?cursor,limit,order}`, true),
      precedes: link(`${base}/transactions?order=asc&cursor=${pagingToken}`),
      succeeds: link(`${base}/transactions?order=desc&cursor=${pagingToken}`),
      transaction: link(self),
    },
    id: hash,
    paging_token: pagingToken,
    successful: record.successful,
    hash,
    ledger: record.ledger,
    created_at: isoTime(record.createdAt),
    source_account: record.sourceAccount,
    source_account_sequence: record.sourceAccountSequence,
    fee_account: record.feeAccount,
    fee_charged: record.feeCharged,
    max_fee: viaInner && record.innerMaxFee ? record.innerMaxFee : record.maxFee,
    operation_count: record.operationCount,
    envelope_xdr: record.envelopeXdr,
    result_xdr: record.resultXdr,
    result_meta_xdr: record.resultMetaXdr,
    fee_meta_xdr: record.feeMetaXdr,
    signatures: viaInner && record.innerSignatures ? record.innerSignatures : record.signatures,
  };
  if (record.memo !== undefined) json.memo = record.memo;
  if (record.memoBytes !== undefined) json.memo_bytes = record.memoBytes;
  const preconditions: Json = {};
  if (record.timeBounds) {
    const { minTime, maxTime } = record.timeBounds;
    json.valid_after = isoTime(Number(minTime));
    if (maxTime !== '0') json.valid_before = isoTime(Number(maxTime));
    preconditions.timebounds = { min_time: minTime, ...(maxTime !== '0' ? { max_time: maxTime } : {}) };
  }
  if (record.ledgerBounds) {
    preconditions.ledgerbounds = {
      min_ledger: record.ledgerBounds.minLedger,
      max_ledger: record.ledgerBounds.maxLedger,
    };
  }
  if (Object.keys(preconditions).length > 0) json.preconditions = preconditions;
  if (record.innerHash) {
    json.fee_bump_transaction = { hash: record.hash, signatures: record.signatures };
    json.inner_transaction = {
      hash: record.innerHash,
      signatures: record.innerSignatures ?? [],
      max_fee: record.innerMaxFee ?? record.maxFee,
    };
  }
  return json;
}

export function paymentJson(base: string, operation: PaymentLikeOperationRecord, transaction?: Json): Json {
  const self = `${base}/operations/${operation.id}`;
  const json: Json = {
    _links: {
      self: link(self),
      transaction: link(`${base}/transactions/${operation.transactionHash}`),
      effects: link(`${self}/effects`),
      succeeds: link(`${base}/effects?order=desc&cursor=${operation.id}`),
      precedes: link(`${base}/effects?order=asc&cursor=${operation.id}`),
    },
    id: operation.id,
    paging_token: operation.id,
    transaction_successful: operation.transactionSuccessful,
    source_account: operation.sourceAccount,
    type: operation.type,
    type_i: operation.type === 'payment' ? 1 : 0,
    created_at: isoTime(operation.createdAt),
    transaction_hash: operation.transactionHash,
  };
  if (operation.type === 'payment') {
    if (operation.assetCode === undefined) {
      json.asset_type = 'native';
    } else {
      json.asset_type = assetType(operation.assetCode);
      json.asset_code = operation.assetCode;
      json.asset_issuer = operation.assetIssuer;
    }
    json.from = operation.from;
    json.to = operation.to;
    json.amount = fromStroops(BigInt(operation.amount));
  } else {
    json.starting_balance = fromStroops(BigInt(operation.startingBalance));
    json.funder = operation.funder;
    json.account = operation.account;
  }
  if (transaction) json.transaction = transaction;
  return json;
}

export function ledgerPagingToken(ledger: LedgerRecord): bigint {
  return toid(ledger.sequence, 0, 0);
}

export function ledgerJson(base: string, ledger: LedgerRecord): Json {
  const self = `${base}/ledgers/${ledger.sequence}`;
  return {
    _links: {
      self: link(self),
      transactions: link(`${self}/transactions{?cursor,limit,order}`, true),
      operations: link(`${self}/operations{?cursor,limit,order}`, true),
      payments: link(`${self}/payments{?cursor,limit,order}`, true),
      effects: link(`${self}/effects{?cursor,limit,order}`, true),
    },
    id: ledger.hash,
    paging_token: ledgerPagingToken(ledger).toString(),
    hash: ledger.hash,
    ...(ledger.sequence > 1 ? { prev_hash: ledger.prevHash } : {}),
    sequence: ledger.sequence,
    successful_transaction_count: ledger.successfulTransactionCount,
    failed_transaction_count: ledger.failedTransactionCount,
    operation_count: ledger.operationCount,
    tx_set_operation_count: ledger.txSetOperationCount,
    closed_at: isoTime(ledger.closedAt),
    total_coins: fromStroops(BigInt(ledger.totalCoins)),
    fee_pool: fromStroops(BigInt(ledger.feePool)),
    base_fee_in_stroops: ledger.baseFee,
    base_reserve_in_stroops: ledger.baseReserve,
    max_tx_set_size: ledger.maxTxSetSize,
    protocol_version: ledger.protocolVersion,
    header_xdr: ledger.headerXdr,
  };
}

/** Fee distribution (per operation) over the last 5 ledgers, as /fee_stats reports it. */
export function feeStatsJson(state: LedgerState): Json {
  const latest = state.latestLedger();
  const charged: bigint[] = [];
  const bids: bigint[] = [];
  for (let sequence = Math.max(1, latest.sequence - 4); sequence <= latest.sequence; sequence += 1) {
    for (const hash of state.ledger(sequence)?.transactionHashes ?? []) {
      const record = state.transaction(hash);
      if (!record) continue;
      const operations = BigInt(record.operationCount + (record.innerHash ? 1 : 0));
      charged.push(BigInt(record.feeCharged) / operations);
      bids.push(BigInt(record.maxFee) / operations);
    }
  }
  const usage = latest.maxTxSetSize > 0 ? latest.txSetOperationCount / latest.maxTxSetSize : 0;
  return {
    last_ledger: String(latest.sequence),
    last_ledger_base_fee: String(latest.baseFee),
    ledger_capacity_usage: usage.toFixed(2),
    fee_charged: distribution(charged, BigInt(latest.baseFee)),
    max_fee: distribution(bids, BigInt(latest.baseFee)),
  };
}

function distribution(values: bigint[], fallback: bigint): Json {
  const sorted = values.length > 0 ? [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) : [fallback];
  const at = (percentile: number): string => {
    const index = Math.min(sorted.length - 1, Math.ceil((percentile / 100) * sorted.length) - 1);
    return String(sorted[Math.max(0, index)]);
  };
  const counts = new Map<bigint, number>();
  for (const value of sorted) counts.set(value, (counts.get(value) ?? 0) + 1);
  let mode = sorted[0] ?? fallback;
  for (const [value, count] of counts) if (count > (counts.get(mode) ?? 0)) mode = value;
  return {
    max: String(sorted[sorted.length - 1]),
    min: String(sorted[0]),
    mode: String(mode),
    p10: at(10),
    p20: at(20),
    p30: at(30),
    p40: at(40),
    p50: at(50),
    p60: at(60),
    p70: at(70),
    p80: at(80),
    p90: at(90),
    p95: at(95),
    p99: at(99),
  };
}
