/**
 * The sandbox's own control surface under /sandbox/: faults, closing a ledger on demand,
 * counting landed transactions by memo (to prove exactly-once), contracts and invocations.
 * Never subject to faults, so a test can always clear what it injected.
 */
import { CONTRACT_INTERFACES, type ContractName } from './contracts-interface';
import { parseFaultSpecs, type FaultRegistry } from './faults';
import { isoTime } from './horizon-json';
import { readBody, sendJson, type RequestContext } from './http-kit';
import type { LedgerCloser } from './ledger-closer';
import type { LedgerState } from './ledger-state';

export interface ControlDependencies {
  state: LedgerState;
  closer: LedgerCloser;
  faults: FaultRegistry;
  /** How contract calls run ('interface-only' or 'native'). */
  contractRuntime: string;
}

export const CONTROL_PREFIX = '/sandbox/';

export async function handleControl(ctx: RequestContext, deps: ControlDependencies): Promise<void> {
  const path = ctx.url.pathname.replace(/\/+$/, '');
  const method = ctx.req.method ?? 'GET';
  if (path === '/sandbox/faults') {
    if (method === 'GET') return sendJson(ctx.res, 200, { faults: deps.faults.list() });
    if (method === 'POST') return addFaults(ctx, deps);
    if (method === 'DELETE') {
      const id = ctx.url.searchParams.get('id');
      if (id !== null && !/^\d+$/.test(id)) return sendJson(ctx.res, 400, { error: 'id must be a fault id' });
      return sendJson(ctx.res, 200, { cleared: deps.faults.clear(id === null ? undefined : Number(id)) });
    }
  }
  if (path === '/sandbox/close-ledger' && method === 'POST') {
    const ledger = await deps.closer.closeLedger();
    return sendJson(ctx.res, 200, {
      sequence: ledger.sequence,
      hash: ledger.hash,
      closedAt: isoTime(ledger.closedAt),
      transactionCount: ledger.transactionHashes.length,
      operationCount: ledger.txSetOperationCount,
      queued: deps.closer.queueLength,
    });
  }
  if (path === '/sandbox/transactions' && method === 'GET') return transactionsByMemo(ctx, deps);
  if (path === '/sandbox/rpc-retention') {
    if (method === 'PUT') return setRpcRetention(ctx, deps);
    if (method === 'GET') return sendJson(ctx.res, 200, rpcRetention(deps));
  }
  if (path === '/sandbox/contracts' && method === 'GET') {
    return sendJson(ctx.res, 200, {
      contracts: Object.fromEntries(
        deps.state.contracts.map((deployment) => [
          deployment.name,
          {
            contractId: deployment.contractId,
            wasmHash: deployment.wasmHash,
            deployedAtLedger: deployment.deployedAtLedger,
            functions: CONTRACT_INTERFACES[deployment.name as ContractName],
          },
        ]),
      ),
      runtime: deps.contractRuntime,
    });
  }
  if (path === '/sandbox/invocations' && method === 'GET') {
    const contract = ctx.url.searchParams.get('contract');
    const functionName = ctx.url.searchParams.get('function');
    const invocations = deps.state.invocations.filter(
      (invocation) =>
        (contract === null || invocation.contract === contract || invocation.contractId === contract) &&
        (functionName === null || invocation.functionName === functionName),
    );
    return sendJson(ctx.res, 200, { count: invocations.length, invocations });
  }
  if (path === '/sandbox/status' && method === 'GET') {
    const latest = deps.state.latestLedger();
    return sendJson(ctx.res, 200, {
      latestLedger: latest.sequence,
      latestLedgerClosedAt: isoTime(latest.closedAt),
      queued: deps.closer.queueLength,
      transactions: deps.state.transactions.length,
      accounts: deps.state.accounts,
    });
  }
  sendJson(ctx.res, 404, { error: `no control endpoint ${method} ${path}` });
}

function rpcRetention(deps: ControlDependencies): Record<string, number> {
  return {
    ledgers: deps.state.rpcRetentionLedgers,
    oldestLedger: deps.state.oldestRetainedLedger().sequence,
    latestLedger: deps.state.latestLedger().sequence,
  };
}

/** `{ ledgers }`: Soroban RPC serves events of only that many latest ledgers from now on (an RPC that pruned its history). */
async function setRpcRetention(ctx: RequestContext, deps: ControlDependencies): Promise<void> {
  let ledgers: unknown;
  try {
    ledgers = (JSON.parse(await readBody(ctx.req)) as { ledgers?: unknown }).ledgers;
  } catch {
    return sendJson(ctx.res, 400, { error: 'body must be JSON: { "ledgers": <count> }' });
  }
  if (typeof ledgers !== 'number' || !Number.isInteger(ledgers) || ledgers < 1) {
    return sendJson(ctx.res, 400, { error: 'ledgers must be a whole number of at least 1' });
  }
  deps.state.rpcRetentionLedgers = ledgers;
  sendJson(ctx.res, 200, rpcRetention(deps));
}

async function addFaults(ctx: RequestContext, deps: ControlDependencies): Promise<void> {
  let specs;
  try {
    specs = parseFaultSpecs(JSON.parse(await readBody(ctx.req)));
  } catch (error) {
    return sendJson(ctx.res, 400, { error: (error as Error).message });
  }
  const added = specs.map((spec) => deps.faults.add(spec));
  sendJson(ctx.res, 201, { faults: added });
}

/** Landed (included in a ledger) transactions with this text memo; `successful` counts those whose operations applied. */
function transactionsByMemo(ctx: RequestContext, deps: ControlDependencies): void {
  const memo = ctx.url.searchParams.get('memo');
  if (memo === null) return sendJson(ctx.res, 400, { error: 'memo is required' });
  const records = deps.state.transactionsWithMemo(memo);
  sendJson(ctx.res, 200, {
    memo,
    count: records.length,
    successful: records.filter((record) => record.successful).length,
    transactions: records.map((record) => ({
      hash: record.hash,
      ...(record.innerHash ? { innerHash: record.innerHash } : {}),
      ledger: record.ledger,
      successful: record.successful,
      sourceAccount: record.sourceAccount,
      createdAt: isoTime(record.createdAt),
    })),
  });
}
