/**
 * The Stellar RPC (Soroban) subset on POST /soroban/rpc, JSON-RPC 2.0, with the result
 * shapes rpc.Server parses: health, network, latest ledger (real header and close meta XDR),
 * ledger entries, simulation (SorobanTransactionData the SDK's assembleTransaction accepts),
 * submission, transaction status and contract events.
 */
import { xdr } from '@stellar/stellar-sdk';
import { contractEventXdr, decodeInvokeContract } from './apply-operations';
import {
  contractCodeKey,
  contractInstanceEntry,
  contractInstanceKey,
  failureDiagnosticEvent,
  hostErrorMessage,
  type ContractRuntime,
} from './contracts-interface';
import { MalformedEnvelopeError, parseEnvelope } from './envelope';
import { isoTime, problems } from './horizon-json';
import { readBody, sendJson, sendProblem, type RequestContext } from './http-kit';
import { PROTOCOL_VERSION, type LedgerCloser } from './ledger-closer';
import { ledgerEntryXdr, storeKeyFromLedgerKey } from './ledger-entries-xdr';
import { toid, type ContractEventRecord, type LedgerRecord, type LedgerState } from './ledger-state';
import type { TransactionSubmitter } from './submission';

export const RPC_PATH = '/soroban/rpc';

export interface RpcDependencies {
  state: LedgerState;
  closer: LedgerCloser;
  submitter: TransactionSubmitter;
  runtime: ContractRuntime;
  networkPassphrase: string;
  hang: (ctx: RequestContext) => void;
}

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const INVALID_REQUEST = -32600;
const INVALID_PARAMS = -32602;

/** stellar-rpc scans at most this many ledgers per getEvents request. */
const LEDGER_SCAN_LIMIT = 10_000;
/** The highest transaction and operation orders of a TOID, and the highest event index. */
const TOID_MAX_TRANSACTION = (1 << 20) - 1;
const TOID_MAX_OPERATION = (1 << 12) - 1;
const MAX_EVENT_INDEX = 4_294_967_295;

interface JsonRpcRequest {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: unknown;
}

/** Transport outcomes a method can ask for instead of a JSON-RPC result. */
type Transport =
  { transport: 'hang' } | { transport: 'rateLimited'; retryAfterSeconds: number } | { transport: 'timeout' };

type MethodResult = Record<string, unknown> | Transport;

export async function handleRpc(ctx: RequestContext, deps: RpcDependencies): Promise<void> {
  if (ctx.req.method !== 'POST') {
    return sendJson(ctx.res, 405, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'use POST' } });
  }
  let request: JsonRpcRequest;
  try {
    request = JSON.parse(await readBody(ctx.req)) as JsonRpcRequest;
  } catch {
    return sendJson(ctx.res, 200, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
  }
  const id = request.id ?? null;
  if (typeof request !== 'object' || request === null || typeof request.method !== 'string') {
    return sendJson(ctx.res, 200, { jsonrpc: '2.0', id, error: { code: -32600, message: 'invalid request' } });
  }
  let result: MethodResult;
  try {
    result = await dispatch(request.method, request.params ?? {}, ctx, deps);
  } catch (error) {
    const code = error instanceof RpcError ? error.code : -32603;
    return sendJson(ctx.res, 200, { jsonrpc: '2.0', id, error: { code, message: (error as Error).message } });
  }
  if ('transport' in result) {
    const transport = result as Transport;
    if (transport.transport === 'hang') return deps.hang(ctx);
    if (transport.transport === 'timeout') return sendProblem(ctx.res, problems.timeout());
    return sendProblem(ctx.res, problems.rateLimitExceeded(), { 'Retry-After': String(transport.retryAfterSeconds) });
  }
  sendJson(ctx.res, 200, { jsonrpc: '2.0', id, result });
}

async function dispatch(
  method: string,
  params: unknown,
  ctx: RequestContext,
  deps: RpcDependencies,
): Promise<MethodResult> {
  const args = (typeof params === 'object' && params !== null ? params : {}) as Record<string, unknown>;
  switch (method) {
    case 'getHealth':
      return getHealth(deps);
    case 'getNetwork':
      return {
        friendbotUrl: `${ctx.base}/friendbot?addr=`,
        passphrase: deps.networkPassphrase,
        protocolVersion: PROTOCOL_VERSION,
      };
    case 'getVersionInfo':
      return {
        version: 'nova-stellar-sandbox-0.1.0',
        commitHash: '',
        buildTimestamp: '',
        captiveCoreVersion: 'stellar-sandbox',
        protocolVersion: PROTOCOL_VERSION,
      };
    case 'getLatestLedger':
      return getLatestLedger(deps);
    case 'getFeeStats':
      return getFeeStats(deps);
    case 'getLedgerEntries':
      return getLedgerEntries(args, deps);
    case 'simulateTransaction':
      return simulateTransaction(args, deps);
    case 'sendTransaction':
      return sendTransaction(args, deps);
    case 'getTransaction':
      return getTransaction(args, deps);
    case 'getEvents':
      return getEvents(args, deps);
    default:
      throw new RpcError(-32601, `method not found: ${method}`);
  }
}

function retention(deps: RpcDependencies): Record<string, unknown> {
  const latest = deps.state.latestLedger();
  const oldest = deps.state.oldestRetainedLedger();
  return {
    latestLedger: latest.sequence,
    latestLedgerCloseTime: String(latest.closedAt),
    oldestLedger: oldest.sequence,
    oldestLedgerCloseTime: String(oldest.closedAt),
  };
}

function getHealth(deps: RpcDependencies): Record<string, unknown> {
  const latest = deps.state.latestLedger();
  const oldest = deps.state.oldestRetainedLedger();
  return {
    status: 'healthy',
    latestLedger: latest.sequence,
    oldestLedger: oldest.sequence,
    ledgerRetentionWindow: latest.sequence - oldest.sequence + 1,
  };
}

function getLatestLedger(deps: RpcDependencies): Record<string, unknown> {
  const latest = deps.state.latestLedger();
  return {
    id: latest.hash,
    sequence: latest.sequence,
    protocolVersion: PROTOCOL_VERSION,
    closeTime: String(latest.closedAt),
    headerXdr: latest.headerXdr,
    metadataXdr: ledgerCloseMeta(deps.state, latest).toXDR('base64'),
  };
}

/** LedgerCloseMeta v0 rebuilt from the stored header, envelopes, results and meta. */
function ledgerCloseMeta(state: LedgerState, ledger: LedgerRecord): xdr.LedgerCloseMeta {
  const header = xdr.LedgerHeader.fromXDR(ledger.headerXdr, 'base64');
  const records = ledger.transactionHashes.flatMap((hash) => {
    const record = state.transaction(hash);
    return record ? [record] : [];
  });
  return new xdr.LedgerCloseMeta(
    0,
    new xdr.LedgerCloseMetaV0({
      ledgerHeader: new xdr.LedgerHeaderHistoryEntry({
        hash: Buffer.from(ledger.hash, 'hex'),
        header,
        ext: new xdr.LedgerHeaderHistoryEntryExt(0),
      }),
      txSet: new xdr.TransactionSet({
        previousLedgerHash: Buffer.from(ledger.prevHash, 'hex'),
        txes: records.map((record) => xdr.TransactionEnvelope.fromXDR(record.envelopeXdr, 'base64')),
      }),
      txProcessing: records.map(
        (record) =>
          new xdr.TransactionResultMeta({
            result: new xdr.TransactionResultPair({
              transactionHash: Buffer.from(record.hash, 'hex'),
              result: xdr.TransactionResult.fromXDR(record.resultXdr, 'base64'),
            }),
            feeProcessing: xdr.OperationMeta.fromXDR(record.feeMetaXdr, 'base64').changes(),
            txApplyProcessing: xdr.TransactionMeta.fromXDR(record.resultMetaXdr, 'base64'),
          }),
      ),
      upgradesProcessing: [],
      scpInfo: [],
    }),
  );
}

function getFeeStats(deps: RpcDependencies): Record<string, unknown> {
  const latest = deps.state.latestLedger();
  const flat = (value: string): Record<string, unknown> => ({
    max: value,
    min: value,
    mode: value,
    p10: value,
    p20: value,
    p30: value,
    p40: value,
    p50: value,
    p60: value,
    p70: value,
    p80: value,
    p90: value,
    p95: value,
    p99: value,
    transactionCount: '0',
    ledgerCount: 1,
  });
  return { sorobanInclusionFee: flat('100'), inclusionFee: flat('100'), latestLedger: latest.sequence };
}

function getLedgerEntries(args: Record<string, unknown>, deps: RpcDependencies): Record<string, unknown> {
  const keys = args.keys;
  if (!Array.isArray(keys) || keys.some((key) => typeof key !== 'string')) {
    throw new RpcError(INVALID_PARAMS, 'keys must be an array of base64 LedgerKey XDR');
  }
  if (keys.length > 200) throw new RpcError(INVALID_PARAMS, 'key count (200) exceeded');
  const entries: Array<Record<string, unknown>> = [];
  for (const encoded of keys as string[]) {
    let key: xdr.LedgerKey;
    try {
      key = xdr.LedgerKey.fromXDR(encoded, 'base64');
    } catch {
      throw new RpcError(INVALID_PARAMS, `cannot unmarshal key value ${encoded}`);
    }
    const storeKey = storeKeyFromLedgerKey(key);
    if (storeKey) {
      const entry = deps.state.peek(storeKey);
      if (entry) {
        entries.push({
          key: encoded,
          xdr: ledgerEntryXdr(entry).data().toXDR('base64'),
          lastModifiedLedgerSeq: entry.lastModifiedLedger,
        });
      }
      continue;
    }
    const deployment = deps.state.contracts.find(
      (candidate) => contractInstanceKey(candidate.contractId).toXDR('base64') === key.toXDR('base64'),
    );
    if (deployment) {
      entries.push({
        key: encoded,
        xdr: contractInstanceEntry(deployment).toXDR('base64'),
        lastModifiedLedgerSeq: deployment.deployedAtLedger,
        liveUntilLedgerSeq: 0xffffffff,
      });
    }
  }
  return { entries, latestLedger: deps.state.latestLedger().sequence };
}

async function simulateTransaction(
  args: Record<string, unknown>,
  deps: RpcDependencies,
): Promise<Record<string, unknown>> {
  const latestLedger = deps.state.latestLedger().sequence;
  if (typeof args.transaction !== 'string')
    throw new RpcError(INVALID_PARAMS, 'transaction must be a base64 TransactionEnvelope');
  let operations: xdr.Operation[];
  let source: string;
  try {
    const envelope = parseEnvelope(args.transaction, deps.networkPassphrase);
    operations = envelope.inner.operations;
    source = envelope.inner.source;
  } catch (error) {
    if (error instanceof MalformedEnvelopeError)
      throw new RpcError(INVALID_PARAMS, `could not unmarshal transaction: ${error.message}`);
    throw error;
  }
  const [operation] = operations;
  if (operations.length !== 1 || !operation || operation.body().switch().name !== 'invokeHostFunction') {
    return { error: 'Transaction contains more than one operation or no invokeHostFunction operation', latestLedger };
  }
  const hostFunction = operation.body().invokeHostFunctionOp().hostFunction();
  if (hostFunction.switch().name !== 'hostFunctionTypeInvokeContract') {
    return { error: `host function ${hostFunction.switch().name} is not supported by the sandbox`, latestLedger };
  }
  const call = decodeInvokeContract(hostFunction.invokeContract());
  if (!call)
    return { error: 'HostError: Error(Value, InvalidInput)\n\ninvokeContract target is not a contract', latestLedger };
  // Simulated on top of `latestLedger`, which the answer names even if a ledger closes meanwhile.
  const outcome = await deps.runtime.simulate({
    ...call,
    invoker: source,
    ledgerSequence: latestLedger + 1,
    closeTime: Number(deps.closer.nowSeconds()),
  });
  if (!outcome.ok) {
    return {
      error: hostErrorMessage(outcome.failure),
      events: [failureDiagnosticEvent(call.contractId, outcome.failure).toXDR('base64')],
      latestLedger,
    };
  }

  const deployment = deps.state.contracts.find((candidate) => candidate.contractId === call.contractId);
  const argumentBytes = call.args.reduce((total, value) => total + value.toXDR().length, 0);
  // A flat, deterministic resource model: enough for core's fee check, not a cost estimate.
  const resourceFee = 50_000n + 100n * BigInt(argumentBytes);
  const transactionData = new xdr.SorobanTransactionData({
    ext: new xdr.SorobanTransactionDataExt(0),
    resources: new xdr.SorobanResources({
      footprint: new xdr.LedgerFootprint({
        readOnly: deployment ? [contractInstanceKey(deployment.contractId), contractCodeKey(deployment.wasmHash)] : [],
        readWrite: [],
      }),
      instructions: 1_000_000 + 1_000 * argumentBytes,
      diskReadBytes: 1_024 + argumentBytes,
      writeBytes: argumentBytes,
    }),
    resourceFee: new xdr.Int64(resourceFee),
  });
  return {
    transactionData: transactionData.toXDR('base64'),
    minResourceFee: resourceFee.toString(),
    // The contract events the call would emit, as diagnostic events (what RPC returns).
    events: outcome.events.map((event) =>
      new xdr.DiagnosticEvent({ inSuccessfulContractCall: true, event: contractEventXdr(event) }).toXDR('base64'),
    ),
    results: [{ auth: [], xdr: outcome.returnValue.toXDR('base64') }],
    latestLedger,
  };
}

function sendTransaction(args: Record<string, unknown>, deps: RpcDependencies): MethodResult {
  if (typeof args.transaction !== 'string')
    throw new RpcError(INVALID_PARAMS, 'transaction must be a base64 TransactionEnvelope');
  const decision = deps.submitter.submit(args.transaction);
  const latest = deps.state.latestLedger();
  const answer = (status: string, hash: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    status,
    hash,
    latestLedger: latest.sequence,
    latestLedgerCloseTime: String(latest.closedAt),
    ...extra,
  });
  switch (decision.kind) {
    case 'malformed':
      throw new RpcError(INVALID_PARAMS, `invalid_xdr: ${decision.message}`);
    case 'hang':
      return { transport: 'hang' };
    case 'rateLimited':
      return { transport: 'rateLimited', retryAfterSeconds: decision.retryAfterSeconds };
    case 'known':
    case 'pending':
      return answer('DUPLICATE', decision.hash);
    case 'rejected':
      return answer('ERROR', decision.hash, { errorResultXdr: decision.result.toXDR('base64') });
    case 'tryAgainLater':
      return answer('TRY_AGAIN_LATER', decision.hash);
    case 'accepted':
      return decision.respond504 ? { transport: 'timeout' } : answer('PENDING', decision.hash);
  }
}

function getTransaction(args: Record<string, unknown>, deps: RpcDependencies): Record<string, unknown> {
  const hash = args.hash;
  if (typeof hash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hash)) {
    throw new RpcError(INVALID_PARAMS, 'hash must be a 64 character hex string');
  }
  const record = deps.state.transaction(hash);
  if (!record) return { status: 'NOT_FOUND', txHash: hash.toLowerCase(), ...retention(deps) };
  const meta = xdr.TransactionMeta.fromXDR(record.resultMetaXdr, 'base64');
  const sorobanMeta = meta.switch() === 3 ? meta.v3().sorobanMeta() : null;
  const diagnosticEvents = sorobanMeta ? sorobanMeta.diagnosticEvents() : [];
  return {
    status: record.successful ? 'SUCCESS' : 'FAILED',
    txHash: hash.toLowerCase(),
    ...retention(deps),
    applicationOrder: record.applicationOrder,
    feeBump: record.innerHash !== undefined,
    envelopeXdr: record.envelopeXdr,
    resultXdr: record.resultXdr,
    resultMetaXdr: record.resultMetaXdr,
    ledger: record.ledger,
    createdAt: String(record.createdAt),
    events: {
      transactionEventsXdr: [],
      contractEventsXdr: [sorobanMeta ? sorobanMeta.events().map((event) => event.toXDR('base64')) : []],
    },
    // A failed call's error, e.g. topics [error, Error(Contract, #3)].
    ...(diagnosticEvents.length > 0
      ? { diagnosticEventsXdr: diagnosticEvents.map((event) => event.toXDR('base64')) }
      : {}),
  };
}

interface EventFilter {
  type?: string;
  contractIds?: string[];
  topics?: string[][];
}

/**
 * As stellar-rpc's getEvents: the request starts at `startLedger`, or just after `cursor`; either
 * way the start must lie within the retained ledgers, else -32600 "startLedger must be within
 * the ledger range: <oldest> - <latest>" (a cursor that fell out of the retention window is
 * refused, never silently moved). At most 10000 ledgers are scanned; a short page's cursor is
 * the end of the scanned window (the last scanned ledger, highest position), so the next request
 * resumes exactly after it.
 */
function getEvents(args: Record<string, unknown>, deps: RpcDependencies): Record<string, unknown> {
  const latest = deps.state.latestLedger();
  const oldest = deps.state.oldestRetainedLedger();
  const pagination = (typeof args.pagination === 'object' && args.pagination !== null ? args.pagination : {}) as {
    cursor?: unknown;
    limit?: unknown;
  };
  const limit = pagination.limit === undefined ? 100 : Number(pagination.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    throw new RpcError(INVALID_PARAMS, 'limit must be between 1 and 10000');
  const filters = parseFilters(args.filters);
  const cursor = pagination.cursor;
  const events = deps.state.events;

  let startIndex: number;
  let startLedger: number;
  if (cursor !== undefined && cursor !== '') {
    if (args.startLedger !== undefined || args.endLedger !== undefined) {
      throw new RpcError(INVALID_PARAMS, 'ledger ranges and cursor cannot both be set');
    }
    if (typeof cursor !== 'string' || !/^\d{19}-\d{10}$/.test(cursor))
      throw new RpcError(INVALID_PARAMS, 'invalid cursor');
    startLedger = Number(BigInt(cursor.slice(0, 19)) >> 32n);
    startIndex = firstIndex(events, (event) => event.id > cursor);
  } else {
    startLedger = Number(args.startLedger);
    if (!Number.isInteger(startLedger)) throw new RpcError(INVALID_PARAMS, 'startLedger must be a ledger sequence');
    startIndex = firstIndex(events, (event) => event.ledger >= startLedger);
  }
  if (startLedger < oldest.sequence || startLedger > latest.sequence) {
    throw new RpcError(
      INVALID_REQUEST,
      `startLedger must be within the ledger range: ${oldest.sequence} - ${latest.sequence}`,
    );
  }
  let endLedger = Math.min(startLedger + LEDGER_SCAN_LIMIT, latest.sequence + 1);
  if (args.endLedger !== undefined) {
    const requested = Number(args.endLedger);
    if (!Number.isInteger(requested) || requested <= startLedger) {
      throw new RpcError(INVALID_PARAMS, 'endLedger must be after startLedger');
    }
    endLedger = Math.min(requested, endLedger);
  }

  const matched: ContractEventRecord[] = [];
  for (let index = startIndex; index < events.length && matched.length < limit; index += 1) {
    const event = events[index] as ContractEventRecord;
    if (event.ledger >= endLedger) break;
    if (filters.length === 0 || filters.some((filter) => matches(event, filter))) matched.push(event);
  }
  const last = matched[matched.length - 1];
  const nextCursor =
    matched.length === limit && last
      ? last.id
      : `${toid(endLedger - 1, TOID_MAX_TRANSACTION, TOID_MAX_OPERATION)
          .toString()
          .padStart(19, '0')}-${String(MAX_EVENT_INDEX)}`;
  return {
    events: matched.map((event) => ({
      type: 'contract',
      ledger: event.ledger,
      ledgerClosedAt: isoTime(event.ledgerClosedAt),
      contractId: event.contractId,
      id: event.id,
      pagingToken: event.id,
      operationIndex: event.operationIndex,
      transactionIndex: event.transactionIndex,
      txHash: event.txHash,
      inSuccessfulContractCall: event.inSuccessfulContractCall,
      topic: event.topics,
      value: event.value,
    })),
    cursor: nextCursor,
    ...retention(deps),
  };
}

function parseFilters(raw: unknown): EventFilter[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new RpcError(INVALID_PARAMS, 'filters must be an array');
  if (raw.length > 5) throw new RpcError(INVALID_PARAMS, 'maximum 5 filters per request');
  return raw.map((item: unknown) => {
    const filter = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const parsed: EventFilter = {};
    if (filter.type !== undefined) {
      if (filter.type !== 'contract' && filter.type !== 'system' && filter.type !== 'diagnostic') {
        throw new RpcError(INVALID_PARAMS, 'filter type must be contract, system or diagnostic');
      }
      parsed.type = filter.type;
    }
    if (filter.contractIds !== undefined) {
      if (!Array.isArray(filter.contractIds) || filter.contractIds.some((id) => typeof id !== 'string')) {
        throw new RpcError(INVALID_PARAMS, 'contractIds must be an array of C... ids');
      }
      parsed.contractIds = filter.contractIds as string[];
    }
    if (filter.topics !== undefined) {
      if (
        !Array.isArray(filter.topics) ||
        filter.topics.some(
          (topic) => !Array.isArray(topic) || (topic as unknown[]).some((segment) => typeof segment !== 'string'),
        )
      ) {
        throw new RpcError(INVALID_PARAMS, 'topics must be arrays of base64 ScVal, "*" or "**"');
      }
      parsed.topics = filter.topics as string[][];
    }
    return parsed;
  });
}

function matches(event: ContractEventRecord, filter: EventFilter): boolean {
  if (filter.type !== undefined && filter.type !== 'contract') return false;
  if (filter.contractIds && filter.contractIds.length > 0 && !filter.contractIds.includes(event.contractId))
    return false;
  if (filter.topics && filter.topics.length > 0) {
    return filter.topics.some((segments) => topicMatches(event.topics, segments));
  }
  return true;
}

/** "*" matches one topic, a trailing "**" any remaining ones; other segments are compared as ScVal XDR. */
function topicMatches(topics: readonly string[], segments: readonly string[]): boolean {
  for (let index = 0; index < segments.length; index += 1) {
    const segment = segments[index] as string;
    if (segment === '**') return true;
    const topic = topics[index];
    if (topic === undefined) return false;
    if (segment !== '*' && canonicalScVal(segment) !== topic) return false;
  }
  return topics.length === segments.length;
}

function canonicalScVal(encoded: string): string {
  try {
    return xdr.ScVal.fromXDR(encoded, 'base64').toXDR('base64');
  } catch {
    return encoded;
  }
}

function firstIndex<T>(list: readonly T[], isAtOrAfter: (item: T) => boolean): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (isAtOrAfter(list[mid] as T)) high = mid;
    else low = mid + 1;
  }
  return low;
}
