/**
 * The platform's resources as the API returns them, built from their rows in one place: the
 * API's responses and the webhook events' `data` (written by the workflows' activities) are
 * the same JSON. Row types are structural (Prisma's rows fit), so this stays workflow-safe.
 */
import { fromStroops } from './amounts';
import { vestedAt, type VestingReleaseStatus } from './vesting';

/** The Web UI page of a workflow, for operators following a link from a resource. */
export function temporalUiLink(ui: { uiUrl: string; namespace: string }, workflowId: string): string {
  return `${ui.uiUrl}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

export interface IssuanceRow {
  id: string;
  status: string;
  campaignId: string;
  walletAddress: string;
  amountStroops: bigint;
  reference: string | null;
  metadata: unknown;
  txHash: string | null;
  ledger: number | null;
  failureType: string | null;
  failureMessage: string | null;
  attempts: number;
  workflowId: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface IssuanceResource {
  id: string;
  status: string;
  campaignId: string;
  walletAddress: string;
  amount: string;
  reference: string | null;
  metadata: Record<string, unknown> | null;
  txHash: string | null;
  ledger: number | null;
  failure: { type: string; message: string } | null;
  attempts: number;
  workflowId: string;
  createdAt: string;
  updatedAt: string;
  links: { self: string; temporalUi: string };
}

export function issuanceResource(row: IssuanceRow, ui: { uiUrl: string; namespace: string }): IssuanceResource {
  return {
    id: row.id,
    status: row.status,
    campaignId: row.campaignId,
    walletAddress: row.walletAddress,
    amount: fromStroops(row.amountStroops),
    reference: row.reference,
    metadata: (row.metadata as Record<string, unknown> | null) ?? null,
    txHash: row.txHash,
    ledger: row.ledger,
    failure: row.failureType ? { type: row.failureType, message: row.failureMessage ?? '' } : null,
    attempts: row.attempts,
    workflowId: row.workflowId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    links: { self: `/v1/rewards/issuances/${row.id}`, temporalUi: temporalUiLink(ui, row.workflowId) },
  };
}

export interface CampaignRow {
  id: string;
  name: string;
  budgetStroops: bigint;
  reservedStroops: bigint;
  paidStroops: bigint;
  maxPerWalletStroops: bigint | null;
  startsAt: Date;
  endsAt: Date;
  status: string;
  createdAt: Date;
  updatedAt: Date;
  onChainStatus: string | null;
  onChainTxHash: string | null;
  onChainLedger: number | null;
  onChainFailureType: string | null;
  onChainFailureCode: number | null;
  onChainFailureMessage: string | null;
  onChainFailureChange: string | null;
}

export interface CampaignOnChainResource {
  status: string;
  txHash: string | null;
  ledger: number | null;
  error?: { type: string; code: number | null; message: string; change: string };
}

export interface CampaignResource {
  id: string;
  name: string;
  budget: string;
  reserved: string;
  paid: string;
  remaining: string;
  maxPerWallet: string | null;
  startsAt: string;
  endsAt: string;
  status: string;
  createdAt: string;
  updatedAt: string;
  onChain: CampaignOnChainResource | null;
}

function campaignOnChain(row: CampaignRow, syncEnabled: boolean): CampaignOnChainResource | null {
  if (!syncEnabled || row.onChainStatus === null) return null;
  return {
    status: row.onChainStatus,
    txHash: row.onChainTxHash,
    ledger: row.onChainLedger,
    ...(row.onChainStatus === 'failed' && row.onChainFailureType
      ? {
          error: {
            type: row.onChainFailureType,
            code: row.onChainFailureCode,
            message: row.onChainFailureMessage ?? '',
            change: row.onChainFailureChange ?? '',
          },
        }
      : {}),
  };
}

/** @param syncEnabled whether campaign sync is configured: off, `onChain` is null. */
export function campaignResource(row: CampaignRow, syncEnabled: boolean): CampaignResource {
  return {
    id: row.id,
    name: row.name,
    budget: fromStroops(row.budgetStroops),
    reserved: fromStroops(row.reservedStroops),
    paid: fromStroops(row.paidStroops),
    remaining: fromStroops(row.budgetStroops - row.reservedStroops - row.paidStroops),
    maxPerWallet: row.maxPerWalletStroops === null ? null : fromStroops(row.maxPerWalletStroops),
    startsAt: row.startsAt.toISOString(),
    endsAt: row.endsAt.toISOString(),
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    onChain: campaignOnChain(row, syncEnabled),
  };
}

export interface WebhookEndpointRow {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: Date | null;
  previousSecretExpiresAt: Date | null;
  failingSince: Date | null;
  lastSuccessAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A webhook endpoint as the API returns it: never its secrets (shown once, at creation and rotation). */
export interface WebhookEndpointResource {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: string | null;
  /** Until then, deliveries are signed with the previous secret too. */
  previousSecretExpiresAt: string | null;
  failingSince: string | null;
  lastSuccessAt: string | null;
  createdAt: string;
  updatedAt: string;
}

const iso = (at: Date | null): string | null => (at ? at.toISOString() : null);

export function webhookEndpointResource(row: WebhookEndpointRow): WebhookEndpointResource {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    disabledAt: iso(row.disabledAt),
    previousSecretExpiresAt: iso(row.previousSecretExpiresAt),
    failingSince: iso(row.failingSince),
    lastSuccessAt: iso(row.lastSuccessAt),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export interface CatalogItemRow {
  id: string;
  name: string;
  description: string | null;
  priceStroops: bigint;
  stock: number | null;
  reserved: number;
  fulfilment: string;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface CatalogItemResource {
  id: string;
  name: string;
  description: string | null;
  price: string;
  /** Units not sold yet; null: unlimited. */
  stock: number | null;
  /** Units held by redemptions in progress. */
  reserved: number;
  /** What can still be redeemed (stock - reserved); null: unlimited. */
  available: number | null;
  fulfilment: string;
  active: boolean;
  createdAt: string;
  updatedAt: string;
  links: { self: string };
}

export function catalogItemResource(row: CatalogItemRow): CatalogItemResource {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    price: fromStroops(row.priceStroops),
    stock: row.stock,
    reserved: row.reserved,
    available: row.stock === null ? null : row.stock - row.reserved,
    fulfilment: row.fulfilment,
    active: row.active,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    links: { self: `/v1/catalog/items/${row.id}` },
  };
}

export interface RedemptionRow {
  id: string;
  quoteId: string;
  itemId: string;
  walletAddress: string;
  priceStroops: bigint;
  fulfilment: string;
  status: string;
  stockState: string;
  chainState: string;
  paymentTxHash: string | null;
  refundTxHash: string | null;
  refundReason: string | null;
  refundMessage: string | null;
  failureType: string | null;
  failureMessage: string | null;
  alert: string | null;
  fulfilmentDeadline: Date | null;
  workflowId: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface RedemptionResource {
  id: string;
  status: string;
  quoteId: string;
  itemId: string;
  walletAddress: string;
  price: string;
  fulfilment: string;
  /** The item's unit: reserved, consumed (fulfilled) or released. */
  stock: string;
  /** The redemption contract's record: none, open, confirmed or cancelled. */
  onChain: string;
  paymentTxHash: string | null;
  refundTxHash: string | null;
  refund: { reason: string; message: string } | null;
  failure: { type: string; message: string } | null;
  /** Set when a compensation could not complete: an operator must look at it. */
  alert: string | null;
  fulfilmentDeadline: string | null;
  workflowId: string;
  createdAt: string;
  updatedAt: string;
  links: { self: string; temporalUi: string };
}

export function redemptionResource(row: RedemptionRow, ui: { uiUrl: string; namespace: string }): RedemptionResource {
  return {
    id: row.id,
    status: row.status,
    quoteId: row.quoteId,
    itemId: row.itemId,
    walletAddress: row.walletAddress,
    price: fromStroops(row.priceStroops),
    fulfilment: row.fulfilment,
    stock: row.stockState,
    onChain: row.chainState,
    paymentTxHash: row.paymentTxHash,
    refundTxHash: row.refundTxHash,
    refund: row.refundReason ? { reason: row.refundReason, message: row.refundMessage ?? '' } : null,
    failure: row.failureType ? { type: row.failureType, message: row.failureMessage ?? '' } : null,
    alert: row.alert,
    fulfilmentDeadline: iso(row.fulfilmentDeadline),
    workflowId: row.workflowId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    links: { self: `/v1/redemptions/${row.id}`, temporalUi: temporalUiLink(ui, row.workflowId) },
  };
}

export interface VestingReleaseRow {
  number: number;
  at: Date;
  amountStroops: bigint;
  status: string;
  txHash: string | null;
}

export interface VestingScheduleRow {
  id: string;
  campaignId: string;
  beneficiary: string;
  totalStroops: bigint;
  startAt: Date;
  cliffAt: Date;
  endAt: Date;
  interval: string;
  revocable: boolean;
  status: string;
  releasedStroops: bigint;
  paidThrough: number;
  registeredTxHash: string | null;
  stalledFailureType: string | null;
  stalledMessage: string | null;
  stalledAt: Date | null;
  revokedAt: Date | null;
  revocationTxHash: string | null;
  revocationStroops: bigint | null;
  returnedStroops: bigint | null;
  workflowId: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface VestingReleaseResource {
  number: number;
  at: string;
  amount: string;
  status: VestingReleaseStatus;
  txHash: string | null;
}

export interface VestingScheduleResource {
  id: string;
  status: string;
  campaignId: string;
  beneficiary: string;
  totalAmount: string;
  vestedAmount: string;
  releasedAmount: string;
  nextReleaseAt: string | null;
  startAt: string;
  cliffAt: string;
  endAt: string;
  interval: string;
  revocable: boolean;
  releases: VestingReleaseResource[];
  /** The create_schedule call on the vesting contract; null until it landed. */
  registeredTxHash: string | null;
  /** Why the schedule is stalled (the refused payment), while it is. */
  stalled: { failureType: string; message: string; since: string } | null;
  /**
   * When the workflow took a revocation it is still carrying out (freezing the schedule on
   * chain, paying what vested); null otherwise. Once done, the status is `revoked` and
   * `revocation` says what it paid.
   */
  revocationRequestedAt: string | null;
  revocation: {
    revokedAt: string;
    /** What had vested and was not released, paid by the revocation. */
    paidAmount: string;
    /** The unvested rest, back in the campaign budget. */
    returnedAmount: string;
    txHash: string | null;
  } | null;
  workflowId: string;
  createdAt: string;
  updatedAt: string;
  links: { self: string; temporalUi: string };
}

/** What the schedule's running workflow knows ahead of the read model (its `vestingProgress` query). */
export interface VestingLiveProgress {
  releasedStroops: bigint;
  nextReleaseAt: string | null;
  /** Set once the workflow took a revocation (vesting is frozen from then). */
  revokedAt?: string;
}

/**
 * A vesting schedule as the API shows it, at `now`: what has vested is the domain's figure for
 * the terms at `now` (frozen at the revocation), what was released and the next release are
 * the running workflow's own when given, else the read model's. A release past its time on a
 * stalled schedule shows as missed.
 */
export function vestingScheduleResource(
  row: VestingScheduleRow,
  releases: VestingReleaseRow[],
  ui: { uiUrl: string; namespace: string },
  now: Date,
  live?: VestingLiveProgress,
): VestingScheduleResource {
  const terms = {
    totalStroops: row.totalStroops,
    startAt: row.startAt,
    cliffAt: row.cliffAt,
    endAt: row.endAt,
    interval: row.interval,
  };
  const ended = row.status === 'completed' || row.status === 'revoked';
  const current = ended ? undefined : live;
  const frozenAt = row.status === 'revoked' ? row.revokedAt! : current?.revokedAt ? new Date(current.revokedAt) : now;
  const vested = row.status === 'completed' ? row.totalStroops : vestedAt(terms, frozenAt);
  const ordered = [...releases].sort((a, b) => a.number - b.number);
  const next = ended ? undefined : ordered.find((release) => release.number > row.paidThrough);
  return {
    id: row.id,
    status: row.status,
    campaignId: row.campaignId,
    beneficiary: row.beneficiary,
    totalAmount: fromStroops(row.totalStroops),
    vestedAmount: fromStroops(vested),
    releasedAmount: fromStroops(current ? current.releasedStroops : row.releasedStroops),
    nextReleaseAt: current ? current.nextReleaseAt : next ? next.at.toISOString() : null,
    startAt: row.startAt.toISOString(),
    cliffAt: row.cliffAt.toISOString(),
    endAt: row.endAt.toISOString(),
    interval: row.interval,
    revocable: row.revocable,
    releases: ordered.map((release) => ({
      number: release.number,
      at: release.at.toISOString(),
      amount: fromStroops(release.amountStroops),
      status:
        release.status === 'scheduled' && row.status === 'stalled' && release.at <= now
          ? 'missed'
          : (release.status as VestingReleaseStatus),
      txHash: release.txHash,
    })),
    registeredTxHash: row.registeredTxHash,
    stalled:
      row.status === 'stalled' && row.stalledFailureType
        ? {
            failureType: row.stalledFailureType,
            message: row.stalledMessage ?? '',
            since: (row.stalledAt ?? row.updatedAt).toISOString(),
          }
        : null,
    revocationRequestedAt: current?.revokedAt ?? null,
    revocation:
      row.status === 'revoked' && row.revokedAt
        ? {
            revokedAt: row.revokedAt.toISOString(),
            paidAmount: fromStroops(row.revocationStroops ?? 0n),
            returnedAmount: fromStroops(row.returnedStroops ?? 0n),
            txHash: row.revocationTxHash,
          }
        : null,
    workflowId: row.workflowId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    links: { self: `/v1/vesting-schedules/${row.id}`, temporalUi: temporalUiLink(ui, row.workflowId) },
  };
}
