import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { Address, nativeToScVal, StrKey, type xdr } from '@stellar/stellar-sdk';
import { campaignChangeKey } from '@nova/domain';
import type { CampaignChange } from '../postgres/campaign-chain';
import type { ContractCallSource } from './contract-call-source';
import { ContractAdmin, contractRefusal, NOT_INITIALIZED } from './contract-admin';
import { ContractError } from './errors';
import type { StellarGateway } from './gateway';
import { heartbeat, toActivityFailure } from './payment-activities';

/** The campaign contract's numbered errors (contracts/README.md): the failure types they surface as. */
export const CAMPAIGN_CONTRACT_ERRORS: Readonly<Record<number, string>> = {
  1: 'AlreadyInitialized',
  2: 'NotInitialized',
  3: 'CampaignExists',
  4: 'CampaignNotFound',
  5: 'InvalidBudget',
  6: 'InvalidSchedule',
  7: 'InvalidId',
  8: 'AlreadyPaused',
  9: 'NotPaused',
};

/**
 * The Stellar address that stands for a merchant on the campaign contract: the ed25519
 * "public key" sha256('nova-merchant:' + merchantId), as a G... strkey. Deterministic (anyone
 * can recompute it from the merchant id), an identifier only: no account exists at it, it
 * holds nothing, and nobody has a key that signs for it; the contract never asks it to.
 */
export function merchantChainAddress(merchantId: string): string {
  return StrKey.encodeEd25519PublicKey(createHash('sha256').update(`nova-merchant:${merchantId}`).digest());
}

const U64_MAX = 2n ** 64n - 1n;

/** Unix seconds (the contract's u64 times) of an ISO-8601 instant, rounded down; RangeError outside u64. */
export function unixSeconds(instant: string): bigint {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) throw new RangeError(`not an instant: ${instant}`);
  const seconds = BigInt(Math.floor(ms / 1000));
  if (seconds < 0n || seconds > U64_MAX) {
    throw new RangeError(`${instant} is outside what the contract's u64 unix seconds can hold (1970 onwards)`);
  }
  return seconds;
}

function required<T>(value: T | undefined, what: string, change: CampaignChange): T {
  if (value === undefined) {
    throw ApplicationFailure.nonRetryable(`${change.kind} change ${change.seq} carries no ${what}`, 'InvalidChange');
  }
  return value;
}

/** The contract function's arguments for a change (contracts/README.md, campaign). */
export function campaignContractArgs(change: CampaignChange): xdr.ScVal[] {
  const id = nativeToScVal(change.campaignId, { type: 'string' });
  const budget = () => nativeToScVal(BigInt(required(change.budgetStroops, 'budget', change)), { type: 'i128' });
  const endsAt = () => nativeToScVal(unixSeconds(required(change.endsAt, 'endsAt', change)), { type: 'u64' });
  switch (change.kind) {
    case 'register':
      return [
        id,
        new Address(merchantChainAddress(change.merchantId)).toScVal(),
        budget(),
        nativeToScVal(unixSeconds(required(change.startsAt, 'startsAt', change)), { type: 'u64' }),
        endsAt(),
      ];
    case 'update':
      return [id, budget(), endsAt()];
    case 'pause':
    case 'resume':
      return [id];
  }
}

export interface CampaignChangeApplied {
  txHash: string;
  ledger: number;
  /** True when an earlier attempt of this change had already landed. */
  alreadyApplied: boolean;
}

/**
 * Writes campaign changes to the campaign contract, signed by the platform account (the
 * contract's admin), each at most once (through the journal). The contract is initialized
 * lazily with the platform account as admin (ContractAdmin).
 */
export function createCampaignContractActivities(deps: {
  gateway: StellarGateway;
  contractCalls: ContractCallSource;
  /** Unset: campaign sync is not configured for this worker, and every change fails CampaignSyncDisabled. */
  campaignContractId?: string;
}) {
  const { contractCalls } = deps;
  const admin = new ContractAdmin(deps.gateway, contractCalls);

  return {
    /**
     * Applies one change to the campaign contract. A contract refusal is a final failure typed
     * with the contract's error name (CampaignExists, CampaignNotFound, ...; the numbered code
     * in details); Soroban RPC and network trouble is retryable (StellarError classification).
     */
    async applyCampaignChange(change: CampaignChange): Promise<CampaignChangeApplied> {
      const contractId = deps.campaignContractId;
      if (!contractId) {
        throw ApplicationFailure.nonRetryable(
          'this worker has no campaign contract configured (CAMPAIGN_CONTRACT_ID or STELLAR_CONTRACTS_FILE)',
          'CampaignSyncDisabled',
        );
      }
      let args: xdr.ScVal[];
      try {
        args = campaignContractArgs(change);
      } catch (error) {
        if (error instanceof ApplicationFailure) throw error;
        // The change itself cannot be encoded (say, a date before 1970 in a u64): no retry can fix it.
        throw ApplicationFailure.nonRetryable(
          `${change.kind} change ${change.seq} cannot be written to the contract: ${(error as Error).message}`,
          'InvalidChange',
        );
      }
      try {
        await admin.ensureInitialized(contractId);
        const confirmation = await contractCalls.invoke(
          { businessKey: campaignChangeKey(change.campaignId, change.seq), contractId, method: change.kind, args },
          heartbeat,
        );
        return { txHash: confirmation.hash, ledger: confirmation.ledger, alreadyApplied: confirmation.alreadyLanded };
      } catch (error) {
        if (error instanceof ContractError && error.code === NOT_INITIALIZED) {
          throw admin.lostState(contractId);
        }
        if (error instanceof ContractError) throw contractRefusal(error, change.kind, CAMPAIGN_CONTRACT_ERRORS);
        throw toActivityFailure(error);
      }
    },
  };
}

export type CampaignContractActivities = ReturnType<typeof createCampaignContractActivities>;
