import { Context, log } from '@temporalio/activity';
import { nativeToScVal, scValToNative } from '@stellar/stellar-sdk';
import type { PrismaClient } from '@nova/db';
import {
  fromStroops,
  type ContractRecordKind,
  type ExpectedPaymentKind,
  type ReconciliationMismatchKind,
  type ReconciliationResourceKind,
  type ReconciliationTrigger,
} from '@nova/domain';
import { recordReconciliationMismatch, recordReconciliationRun } from '../metrics';
import type { EventRelayKick } from '../webhooks/relay';
import { merchantChainAddress, unixSeconds } from '../stellar/campaign-contract';
import { ContractError } from '../stellar/errors';
import type { ChainPayment, StellarGateway } from '../stellar/gateway';
import { heartbeat, toActivityFailure } from '../stellar/payment-activities';
import { paymentSourceOf, recordOfKey, type PaidRecord } from './payment-sources';

export interface ReconciliationWindowInput {
  reconciliationId: string;
  /** ISO-8601 instants: the window is [from, to). */
  from: string;
  to: string;
}

export interface OpenReconciliationInput {
  reconciliationId: string;
  trigger: ReconciliationTrigger;
  workflowId: string;
  /** An admin's window ([from, to), ISO-8601) ... */
  from?: string;
  to?: string;
  /** ... or a scheduled run's: `windowSeconds` ending at `endsAtMs` (unix milliseconds). */
  endsAtMs?: number;
  windowSeconds?: number;
}

export interface StageChainPaymentsInput extends ReconciliationWindowInput {
  account: string;
  /** Where the previous call stopped (a Horizon paging token, newest first). */
  cursor?: string;
  /** Pages of `pageSize` one call reads at most; the workflow calls again from `next`. */
  maxPages?: number;
  pageSize?: number;
}

export interface BatchInput extends ReconciliationWindowInput {
  cursor?: string;
  batchSize?: number;
}

/** What one batch checked: records per kind, the mismatches it recorded, and where the next batch begins. */
export interface ReconciliationBatch {
  checked: Partial<Record<string, number>>;
  mismatches: number;
  next?: string;
}

interface Finding {
  kind: ReconciliationMismatchKind;
  resourceKind: ReconciliationResourceKind;
  resourceId?: string | null;
  merchantId?: string | null;
  /** Unique within the report: a retried batch records a finding once. */
  findingKey: string;
  message: string;
  chain: unknown;
  readModel: unknown;
}

interface StagedPayment {
  operationId: bigint;
  txHash: string;
  opIndex: number;
  type: string;
  fromAccount: string;
  toAccount: string;
  asset: string;
  amountStroops: bigint;
  memo: string | null;
  closedAt: Date;
  businessKey: string | null;
  journalDestination: string | null;
  journalAmountStroops: bigint | null;
  journalStatus: string | null;
}

const DEFAULT_PAGE_SIZE = 200;
const DEFAULT_MAX_PAGES = 10;
const DEFAULT_BATCH_SIZE = 500;
const NOT_FOUND = 4;

/** JSON for a report: bigints as decimal amounts, dates as ISO strings. */
function chainSide(
  payment: Pick<ChainPayment, 'txHash' | 'opIndex' | 'type' | 'from' | 'to' | 'asset' | 'memo'> & {
    operationId: string | bigint;
    amountStroops: bigint;
    closedAt: Date;
  },
) {
  return {
    operationId: payment.operationId.toString(),
    txHash: payment.txHash,
    opIndex: payment.opIndex,
    type: payment.type,
    from: payment.from,
    to: payment.to,
    asset: payment.asset,
    amount: fromStroops(payment.amountStroops),
    memo: payment.memo ?? null,
    closedAt: payment.closedAt.toISOString(),
  };
}

function recordSide(record: PaidRecord) {
  return {
    kind: record.kind,
    id: record.id,
    businessKey: record.businessKey,
    merchantId: record.merchantId,
    status: record.status,
    paid: record.paid,
    amount: fromStroops(record.amountStroops),
    destination: record.destination,
    txHash: record.txHash,
    recordedAt: record.paidAt.toISOString(),
  };
}

function stagedChainSide(payment: StagedPayment) {
  return chainSide({
    ...payment,
    from: payment.fromAccount,
    to: payment.toAccount,
    memo: payment.memo ?? undefined,
  });
}

function heartbeatDetails<T>(): T | undefined {
  try {
    return Context.current().info.heartbeatDetails as T | undefined;
  } catch {
    return undefined;
  }
}

/**
 * The reconciliation of the chain against the read models, in batches that each fit an
 * activity call (the workflow loops over them, so a window of thousands of payments keeps its
 * history small): the payments that left the platform's accounts are staged from Horizon, then
 * each is matched, through the transaction journal (which records every transaction the platform
 * put on chain, with the business key of each operation), to the one record it pays; every record
 * the read model says was paid is matched back to its payment; every contract record is read
 * through the contract's view function and compared with its resource. Each mismatch is
 * written with both sides; at completion, the metric and the merchants' events.
 */
export function createReconciliationActivities(deps: {
  db: PrismaClient;
  gateway: StellarGateway;
  /** The platform (distribution) account: payments leave from it, and it reads the contracts' views. */
  distributionAccount: string;
  campaignContractId?: string;
  redemptionContractId?: string;
  events?: EventRelayKick;
}) {
  const { db, gateway } = deps;
  const platformAsset = `${gateway.network.assetCode}:${gateway.network.assetIssuer}`;

  async function record(reconciliationId: string, findings: Finding[]): Promise<number> {
    let written = 0;
    for (const finding of findings) {
      written += await db.$executeRaw`
        INSERT INTO reconciliation_mismatches
          (reconciliation_id, kind, resource_kind, resource_id, merchant_id, finding_key, message, chain, read_model)
        VALUES (${reconciliationId}::uuid, ${finding.kind}, ${finding.resourceKind}, ${finding.resourceId ?? null},
                ${finding.merchantId ?? null}::uuid, ${finding.findingKey}, ${finding.message},
                ${finding.chain === null ? null : JSON.stringify(finding.chain)}::jsonb,
                ${finding.readModel === null ? null : JSON.stringify(finding.readModel)}::jsonb)
        ON CONFLICT (reconciliation_id, finding_key) DO NOTHING`;
    }
    return written;
  }

  /** What differs between a payment on chain and the record the journal says it pays ([] when nothing). */
  function differences(payment: StagedPayment, paid: PaidRecord): string[] {
    const found: string[] = [];
    if (!paid.paid) found.push(`the record is ${paid.status}, not paid`);
    if (paid.amountStroops !== payment.amountStroops)
      found.push(`amount ${fromStroops(payment.amountStroops)} on chain, ${fromStroops(paid.amountStroops)} recorded`);
    if (paid.destination !== payment.toAccount)
      found.push(`destination ${payment.toAccount} on chain, ${paid.destination} recorded`);
    if (paid.txHash !== payment.txHash)
      found.push(`transaction ${payment.txHash} on chain, ${paid.txHash ?? 'none'} recorded`);
    if (payment.asset !== platformAsset) found.push(`asset ${payment.asset}, not ${platformAsset}`);
    return found;
  }

  return {
    /**
     * The report's row and its window: an admin's request wrote both already; a scheduled run
     * writes its row here. The row's window is the one reconciled (a retry finds it written).
     */
    async openReconciliation(input: OpenReconciliationInput): Promise<{ from: string; to: string }> {
      let from: Date;
      let to: Date;
      if (input.from && input.to) {
        from = new Date(input.from);
        to = new Date(input.to);
      } else {
        to = new Date(input.endsAtMs ?? Date.now());
        from = new Date(to.getTime() - (input.windowSeconds ?? 86_400) * 1000);
      }
      await db.$executeRaw`
        INSERT INTO reconciliations (id, trigger, window_from, window_to, workflow_id, handed_off_at)
        VALUES (${input.reconciliationId}::uuid, ${input.trigger}, ${from}, ${to}, ${input.workflowId}, now())
        ON CONFLICT (id) DO NOTHING`;
      const [row] = await db.$queryRaw<{ from: Date; to: Date }[]>`
        SELECT window_from AS "from", window_to AS "to" FROM reconciliations WHERE id = ${input.reconciliationId}::uuid`;
      if (!row) throw new Error(`reconciliation ${input.reconciliationId} was not recorded`);
      return { from: row.from.toISOString(), to: row.to.toISOString() };
    },

    /** The accounts payments leave from: the distribution account and every channel of the pool. */
    async platformAccounts(): Promise<string[]> {
      const channels = await db.$queryRaw<{ publicKey: string }[]>`
        SELECT public_key AS "publicKey" FROM channel_accounts ORDER BY public_key`;
      return [...new Set([deps.distributionAccount, ...channels.map((row) => row.publicKey)])];
    },

    /**
     * Stages the payments that left `account` within the window, reading Horizon newest first
     * from `cursor` (or the newest), up to `maxPages` pages; `next` is where the next call goes
     * on. Heartbeats the cursor after each page, and a retry resumes from it. A payment seen
     * twice (from another account, or again after a retry) is staged once.
     */
    async stageChainPayments(input: StageChainPaymentsInput): Promise<{ staged: number; next?: string }> {
      const from = new Date(input.from);
      const to = new Date(input.to);
      const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;
      let cursor = heartbeatDetails<string[]>()?.[0] ?? input.cursor;
      let staged = 0;
      try {
        for (let page = 0; page < (input.maxPages ?? DEFAULT_MAX_PAGES); page++) {
          const { payments, next } = await gateway.paymentsPage(input.account, {
            order: 'desc',
            limit: pageSize,
            ...(cursor ? { cursor } : {}),
          });
          const left = payments.filter(
            (payment) => payment.from === input.account && payment.closedAt >= from && payment.closedAt < to,
          );
          if (left.length > 0) {
            staged += await db.$executeRaw`
              INSERT INTO reconciliation_chain_payments
                (reconciliation_id, operation_id, tx_hash, op_index, type, from_account, to_account, asset,
                 amount_stroops, memo, closed_at)
              SELECT ${input.reconciliationId}::uuid, p.operation_id::bigint, p.tx_hash, p.op_index::int, p.type,
                     p.from_account, p.to_account, p.asset, p.amount_stroops::bigint, p.memo, p.closed_at::timestamptz
                FROM jsonb_to_recordset(${JSON.stringify(
                  left.map((payment) => ({
                    operation_id: payment.operationId,
                    tx_hash: payment.txHash,
                    op_index: payment.opIndex,
                    type: payment.type,
                    from_account: payment.from,
                    to_account: payment.to,
                    asset: payment.asset,
                    amount_stroops: payment.amountStroops.toString(),
                    memo: payment.memo ?? null,
                    closed_at: payment.closedAt.toISOString(),
                  })),
                )}::jsonb) AS p(operation_id text, tx_hash text, op_index int, type text, from_account text,
                                to_account text, asset text, amount_stroops text, memo text, closed_at text)
              ON CONFLICT (reconciliation_id, operation_id) DO NOTHING`;
          }
          const oldest = payments.at(-1);
          // Newest first: once a page reaches back before the window, the rest is older still.
          if (!next || !oldest || oldest.closedAt < from) return { staged };
          cursor = next;
          heartbeat([cursor]);
        }
      } catch (error) {
        throw toActivityFailure(error);
      }
      return { staged, ...(cursor ? { next: cursor } : {}) };
    },

    /**
     * Matches a batch of staged payments (by operation id) to the records they pay: through the
     * journal item of the same transaction and operation, to its business key's source. A payment
     * the journal never put on chain is `payment_without_record`; one whose record disagrees is
     * `payment_differs`; a business key paid twice is `duplicate_payment`.
     */
    async comparePaymentBatch(input: BatchInput): Promise<ReconciliationBatch> {
      const after = BigInt(input.cursor ?? '0');
      const limit = input.batchSize ?? DEFAULT_BATCH_SIZE;
      const batch = await db.$queryRaw<StagedPayment[]>`
        SELECT p.operation_id AS "operationId", p.tx_hash AS "txHash", p.op_index AS "opIndex", p.type,
               p.from_account AS "fromAccount", p.to_account AS "toAccount", p.asset,
               p.amount_stroops AS "amountStroops", p.memo, p.closed_at AS "closedAt",
               i.business_key AS "businessKey", i.destination AS "journalDestination",
               i.amount_stroops AS "journalAmountStroops", t.status::text AS "journalStatus"
          FROM reconciliation_chain_payments p
          LEFT JOIN journal_transactions t ON t.hash = p.tx_hash
          LEFT JOIN journal_items i ON i.transaction_id = t.id AND i.op_index = p.op_index
         WHERE p.reconciliation_id = ${input.reconciliationId}::uuid AND p.operation_id > ${after}
         ORDER BY p.operation_id LIMIT ${limit}`;
      const checked: Partial<Record<string, number>> = { chainPayments: batch.length };
      const findings: Finding[] = [];
      const byKind = new Map<ExpectedPaymentKind, { payment: StagedPayment; id: string }[]>();
      for (const payment of batch) {
        const owner = payment.businessKey ? recordOfKey(payment.businessKey) : undefined;
        if (!owner) {
          findings.push({
            kind: 'payment_without_record',
            resourceKind: 'unknown',
            findingKey: `payment/${payment.operationId}`,
            message: payment.businessKey
              ? `payment ${payment.txHash}#${payment.opIndex} is journaled under ${payment.businessKey}, which pays no known kind of record`
              : `payment ${payment.txHash}#${payment.opIndex} left ${payment.fromAccount} but the platform never put it on chain`,
            chain: stagedChainSide(payment),
            readModel: payment.businessKey
              ? { journal: { businessKey: payment.businessKey, status: payment.journalStatus } }
              : null,
          });
          continue;
        }
        const list = byKind.get(owner.source.kind) ?? [];
        list.push({ payment, id: owner.id });
        byKind.set(owner.source.kind, list);
      }
      for (const [kind, payments] of byKind) {
        const records = new Map(
          (await paymentSourceOf(kind).load(db, [...new Set(payments.map((entry) => entry.id))])).map((paid) => [
            paid.id,
            paid,
          ]),
        );
        for (const { payment, id } of payments) {
          const paid = records.get(id);
          const journal = {
            businessKey: payment.businessKey,
            status: payment.journalStatus,
            destination: payment.journalDestination,
            amount: payment.journalAmountStroops === null ? null : fromStroops(payment.journalAmountStroops),
          };
          if (!paid) {
            findings.push({
              kind: 'payment_differs',
              resourceKind: kind,
              resourceId: id,
              findingKey: `payment/${payment.operationId}`,
              message: `payment ${payment.txHash}#${payment.opIndex} pays ${kind} ${id}, which the read model does not have`,
              chain: stagedChainSide(payment),
              readModel: { record: null, journal },
            });
            continue;
          }
          const found = differences(payment, paid);
          if (found.length > 0) {
            findings.push({
              kind: 'payment_differs',
              resourceKind: kind,
              resourceId: id,
              merchantId: paid.merchantId,
              findingKey: `payment/${payment.operationId}`,
              message: `${kind} ${id}: ${found.join('; ')}`,
              chain: stagedChainSide(payment),
              readModel: { record: recordSide(paid), journal },
            });
          }
        }
      }
      // A business key paid by two operations (in this window): at most one may ever land.
      const keys = batch.map((payment) => payment.businessKey).filter((key): key is string => key !== null);
      if (keys.length > 0) {
        const twice = await db.$queryRaw<{ businessKey: string; operations: string[] }[]>`
          SELECT i.business_key AS "businessKey", array_agg(p.operation_id::text ORDER BY p.operation_id) AS operations
            FROM reconciliation_chain_payments p
            JOIN journal_transactions t ON t.hash = p.tx_hash
            JOIN journal_items i ON i.transaction_id = t.id AND i.op_index = p.op_index
           WHERE p.reconciliation_id = ${input.reconciliationId}::uuid AND i.business_key = ANY(${keys}::text[])
           GROUP BY i.business_key HAVING count(*) > 1`;
        for (const duplicate of twice) {
          const owner = recordOfKey(duplicate.businessKey);
          const payments = batch.filter((payment) => payment.businessKey === duplicate.businessKey);
          findings.push({
            kind: 'duplicate_payment',
            resourceKind: owner?.source.kind ?? 'unknown',
            resourceId: owner?.id ?? null,
            findingKey: `duplicate/${duplicate.businessKey}`,
            message: `${duplicate.businessKey} was paid by ${duplicate.operations.length} operations: ${duplicate.operations.join(', ')}`,
            chain: { operations: duplicate.operations, payments: payments.map(stagedChainSide) },
            readModel: { businessKey: duplicate.businessKey },
          });
        }
      }
      const mismatches = await record(input.reconciliationId, findings);
      const last = batch.at(-1);
      return {
        checked,
        mismatches,
        ...(batch.length === limit && last ? { next: last.operationId.toString() } : {}),
      };
    },

    /**
     * The records of one kind the read model says were paid within the window, a batch at a time:
     * each must have its payment on chain. One staged in this report has been compared already;
     * any other (its ledger closed just outside the window, say) is looked up by its transaction
     * hash on Horizon. Missing, or different there: `record_without_payment` / `payment_differs`.
     */
    async checkPaidRecords(input: BatchInput & { kind: ExpectedPaymentKind }): Promise<ReconciliationBatch> {
      const source = paymentSourceOf(input.kind);
      const limit = input.batchSize ?? DEFAULT_BATCH_SIZE;
      const [at, id] = input.cursor ? input.cursor.split('|') : [];
      const records = await source.paidIn(
        db,
        { from: new Date(input.from), to: new Date(input.to) },
        { at: new Date(at ?? 0), id: id ?? '00000000-0000-0000-0000-000000000000' },
        limit,
      );
      const staged = new Set(
        (
          await db.$queryRaw<{ businessKey: string }[]>`
            SELECT DISTINCT i.business_key AS "businessKey"
              FROM reconciliation_chain_payments p
              JOIN journal_transactions t ON t.hash = p.tx_hash
              JOIN journal_items i ON i.transaction_id = t.id AND i.op_index = p.op_index
             WHERE p.reconciliation_id = ${input.reconciliationId}::uuid
               AND i.business_key = ANY(${records.map((paid) => paid.businessKey)}::text[])`
        ).map((row) => row.businessKey),
      );
      const findings: Finding[] = [];
      try {
        for (const paid of records) {
          if (staged.has(paid.businessKey)) continue;
          heartbeat([paid.id]);
          const onChain = paid.txHash ? await gateway.transactionPayments(paid.txHash) : undefined;
          const match = onChain?.find(
            (payment) =>
              payment.to === paid.destination &&
              payment.amountStroops === paid.amountStroops &&
              payment.asset === platformAsset &&
              payment.from === deps.distributionAccount,
          );
          if (match) continue;
          findings.push({
            kind: onChain && onChain.length > 0 ? 'payment_differs' : 'record_without_payment',
            resourceKind: paid.kind,
            resourceId: paid.id,
            merchantId: paid.merchantId,
            findingKey: `record/${paid.businessKey}`,
            message:
              onChain && onChain.length > 0
                ? `${paid.kind} ${paid.id}: transaction ${paid.txHash} on chain pays no ${fromStroops(paid.amountStroops)} to ${paid.destination}`
                : `${paid.kind} ${paid.id} is recorded paid${paid.txHash ? ` by ${paid.txHash}` : ''}, which is not on chain`,
            chain: onChain && onChain.length > 0 ? { payments: onChain.map(chainSide) } : null,
            readModel: recordSide(paid),
          });
        }
      } catch (error) {
        throw toActivityFailure(error);
      }
      const mismatches = await record(input.reconciliationId, findings);
      const last = records.at(-1);
      return {
        checked: { [input.kind]: records.length },
        mismatches,
        ...(records.length === limit && last ? { next: `${last.paidAt.toISOString()}|${last.id}` } : {}),
      };
    },

    /**
     * The contract records of one kind whose resource changed within the window, a batch at a
     * time, read through the contract's `get` and compared with the resource: a campaign's
     * merchant, budget, schedule and status; a redemption's holder, merchant, amount and status.
     * Resources with a change still on its way to the contract are left for the next run.
     */
    async checkContractRecords(input: BatchInput & { kind: ContractRecordKind }): Promise<ReconciliationBatch> {
      const contractId = input.kind === 'campaign' ? deps.campaignContractId : deps.redemptionContractId;
      if (!contractId) return { checked: { [input.kind]: 0 }, mismatches: 0 };
      const limit = input.batchSize ?? DEFAULT_BATCH_SIZE;
      const [at, id] = input.cursor ? input.cursor.split('|') : [];
      const after = { at: new Date(at ?? 0), id: id ?? '00000000-0000-0000-0000-000000000000' };
      const from = new Date(input.from);
      const to = new Date(input.to);
      const read = async (resourceId: string): Promise<Record<string, unknown> | null> => {
        try {
          const value = await gateway.readContract({
            contractId,
            method: 'get',
            args: [nativeToScVal(resourceId, { type: 'string' })],
            source: deps.distributionAccount,
          });
          return scValToNative(value) as Record<string, unknown>;
        } catch (error) {
          if (error instanceof ContractError && error.code === NOT_FOUND) return null;
          throw error;
        }
      };
      const statusName = (value: unknown) => (Array.isArray(value) ? String(value[0]) : String(value));
      const findings: Finding[] = [];
      let rows: { id: string; merchantId: string; updatedAt: Date; expected: Record<string, string> }[];
      if (input.kind === 'campaign') {
        const campaigns = await db.$queryRaw<
          {
            id: string;
            merchantId: string;
            updatedAt: Date;
            budgetStroops: bigint;
            startsAt: Date;
            endsAt: Date;
            status: string;
          }[]
        >`
          SELECT id::text, merchant_id::text AS "merchantId", updated_at AS "updatedAt", budget_stroops AS "budgetStroops",
                 starts_at AS "startsAt", ends_at AS "endsAt", status
            FROM campaigns
           WHERE on_chain_status = 'synced' AND chain_change_seq = chain_settled_seq
             AND updated_at >= ${from} AND updated_at < ${to}
             AND (updated_at, id) > (${after.at}::timestamptz, ${after.id}::uuid)
           ORDER BY updated_at, id LIMIT ${limit}`;
        rows = campaigns.map((campaign) => ({
          id: campaign.id,
          merchantId: campaign.merchantId,
          updatedAt: campaign.updatedAt,
          expected: {
            merchant: merchantChainAddress(campaign.merchantId),
            budget: campaign.budgetStroops.toString(),
            starts_at: unixSeconds(campaign.startsAt.toISOString()).toString(),
            ends_at: unixSeconds(campaign.endsAt.toISOString()).toString(),
            status: campaign.status === 'paused' ? 'Paused' : 'Active',
          },
        }));
      } else {
        const redemptions = await db.$queryRaw<
          {
            id: string;
            merchantId: string;
            updatedAt: Date;
            walletAddress: string;
            priceStroops: bigint;
            chainState: string;
          }[]
        >`
          SELECT id::text, merchant_id::text AS "merchantId", updated_at AS "updatedAt", wallet_address AS "walletAddress",
                 price_stroops AS "priceStroops", chain_state AS "chainState"
            FROM redemptions
           WHERE chain_state IN ('open', 'confirmed', 'cancelled')
             AND updated_at >= ${from} AND updated_at < ${to}
             AND (updated_at, id) > (${after.at}::timestamptz, ${after.id}::uuid)
           ORDER BY updated_at, id LIMIT ${limit}`;
        rows = redemptions.map((redemption) => ({
          id: redemption.id,
          merchantId: redemption.merchantId,
          updatedAt: redemption.updatedAt,
          expected: {
            holder: redemption.walletAddress,
            merchant: merchantChainAddress(redemption.merchantId),
            amount: redemption.priceStroops.toString(),
            status: redemption.chainState.charAt(0).toUpperCase() + redemption.chainState.slice(1),
          },
        }));
      }
      try {
        for (const row of rows) {
          heartbeat([row.id]);
          const onChain = await read(row.id);
          const actual = onChain
            ? Object.fromEntries(
                Object.keys(row.expected).map((field) => [
                  field,
                  field === 'status' ? statusName(onChain[field]) : String(onChain[field]),
                ]),
              )
            : null;
          const differing = actual
            ? Object.keys(row.expected).filter((field) => actual[field] !== row.expected[field])
            : ['record'];
          if (differing.length === 0) continue;
          // The resource may have moved on while the contract was read: only a resource that
          // stayed as it was is compared.
          const table = input.kind === 'campaign' ? 'campaigns' : 'redemptions';
          const unchanged = await db.$queryRawUnsafe<{ same: boolean }[]>(
            `SELECT updated_at = $2::timestamptz AS same FROM ${table} WHERE id = $1::uuid`,
            row.id,
            row.updatedAt,
          );
          if (!unchanged[0]?.same) continue;
          findings.push({
            kind: 'contract_record_differs',
            resourceKind: input.kind,
            resourceId: row.id,
            merchantId: row.merchantId,
            findingKey: `contract/${input.kind}/${row.id}`,
            message: actual
              ? `${input.kind} ${row.id} on contract ${contractId} differs in ${differing.join(', ')}`
              : `${input.kind} ${row.id} has no record on contract ${contractId}`,
            chain: actual ? { contractId, record: actual } : null,
            readModel: { id: row.id, expected: row.expected, updatedAt: row.updatedAt.toISOString() },
          });
        }
      } catch (error) {
        throw toActivityFailure(error);
      }
      const mismatches = await record(input.reconciliationId, findings);
      const last = rows.at(-1);
      return {
        checked: { [input.kind]: rows.length },
        mismatches,
        ...(rows.length === limit && last ? { next: `${last.updatedAt.toISOString()}|${last.id}` } : {}),
      };
    },

    /**
     * Completes the report with its counts, drops the staged payments, and, the first time only,
     * counts each mismatch in nova_reconciliation_mismatches_total and writes a
     * `reconciliation.mismatch` event for each one that concerns a merchant's resource (those
     * without a merchant, such as a payment nobody on the platform made, are the admin's: in the
     * report and the metric).
     */
    async completeReconciliation(input: {
      reconciliationId: string;
      checked: Partial<Record<string, number>>;
    }): Promise<{ mismatches: number; events: number }> {
      const outcome = await db.$transaction(async (tx) => {
        const mismatches = await tx.$queryRaw<
          { id: bigint; kind: string; merchantId: string | null; resourceKind: string; resourceId: string | null }[]
        >`
          SELECT id, kind, merchant_id::text AS "merchantId", resource_kind AS "resourceKind", resource_id AS "resourceId"
            FROM reconciliation_mismatches WHERE reconciliation_id = ${input.reconciliationId}::uuid ORDER BY id`;
        const perKind: Record<string, number> = {};
        for (const mismatch of mismatches) perKind[mismatch.kind] = (perKind[mismatch.kind] ?? 0) + 1;
        const completed = await tx.$executeRaw`
          UPDATE reconciliations
             SET status = 'completed', completed_at = now(), mismatch_count = ${mismatches.length},
                 counts = ${JSON.stringify({ checked: input.checked, mismatches: perKind })}::jsonb
           WHERE id = ${input.reconciliationId}::uuid AND status = 'running'`;
        await tx.$executeRaw`DELETE FROM reconciliation_chain_payments WHERE reconciliation_id = ${input.reconciliationId}::uuid`;
        if (completed === 0) return { first: false, mismatches, events: 0 };
        let events = 0;
        for (const mismatch of mismatches) {
          if (!mismatch.merchantId) continue;
          events += await tx.$executeRaw`
            INSERT INTO outbox_events (merchant_id, type, aggregate_id, dedupe_key, payload)
            SELECT m.merchant_id, 'reconciliation.mismatch', m.reconciliation_id::text,
                   'reconciliation.mismatch/' || m.reconciliation_id::text || '/' || m.id::text,
                   jsonb_build_object(
                     'reconciliationId', m.reconciliation_id::text, 'kind', m.kind,
                     'resourceKind', m.resource_kind, 'resourceId', m.resource_id, 'message', m.message,
                     'chain', m.chain, 'readModel', m.read_model,
                     'window', jsonb_build_object(
                       'from', to_char(r.window_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                       'to', to_char(r.window_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
                     'detectedAt', to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
              FROM reconciliation_mismatches m JOIN reconciliations r ON r.id = m.reconciliation_id
             WHERE m.id = ${mismatch.id}
            ON CONFLICT (dedupe_key) DO NOTHING`;
        }
        return { first: true, mismatches, events };
      });
      if (outcome.first) {
        for (const mismatch of outcome.mismatches) recordReconciliationMismatch(mismatch.kind, mismatch.resourceKind);
        recordReconciliationRun('completed');
        if (outcome.mismatches.length > 0) {
          log.error('reconciliation found mismatches', {
            reconciliationId: input.reconciliationId,
            mismatches: outcome.mismatches.length,
          });
        }
        if (outcome.events > 0) deps.events?.kick();
      }
      return { mismatches: outcome.mismatches.length, events: outcome.events };
    },

    /** The run could not complete: the report says why (its mismatches so far stay). */
    async failReconciliation(input: { reconciliationId: string; message: string }): Promise<void> {
      const failed = await db.$executeRaw`
        UPDATE reconciliations SET status = 'failed', completed_at = now(), failure_message = ${input.message.slice(0, 1000)},
               mismatch_count = (SELECT count(*) FROM reconciliation_mismatches WHERE reconciliation_id = ${input.reconciliationId}::uuid)
         WHERE id = ${input.reconciliationId}::uuid AND status = 'running'`;
      await db.$executeRaw`DELETE FROM reconciliation_chain_payments WHERE reconciliation_id = ${input.reconciliationId}::uuid`;
      if (failed > 0) recordReconciliationRun('failed');
    },
  };
}

export type ReconciliationActivities = ReturnType<typeof createReconciliationActivities>;
