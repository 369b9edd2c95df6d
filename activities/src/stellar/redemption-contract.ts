import { ApplicationFailure } from '@temporalio/common';
import { Address, nativeToScVal, scValToNative, xdr } from '@stellar/stellar-sdk';
import { redemptionKeys } from '@nova/domain';
import { merchantChainAddress } from './campaign-contract';
import { ContractAdmin, contractRefusal, NOT_INITIALIZED } from './contract-admin';
import type { ContractCallSource } from './contract-call-source';
import { ContractError } from './errors';
import type { StellarGateway } from './gateway';
import { heartbeat, toActivityFailure } from './payment-activities';

/** The redemption contract's numbered errors (contracts/README.md): the failure types they surface as. */
export const REDEMPTION_CONTRACT_ERRORS: Readonly<Record<number, string>> = {
  1: 'AlreadyInitialized',
  2: 'NotInitialized',
  3: 'AlreadyExists',
  4: 'NotFound',
  5: 'InvalidAmount',
  6: 'NotOpen',
  7: 'InvalidId',
};
const ALREADY_EXISTS = 3;
const NOT_FOUND = 4;
const NOT_OPEN = 6;

export interface RedemptionOpenInput {
  redemptionId: string;
  merchantId: string;
  walletAddress: string;
  /** Stroops as a decimal string (activity payloads are JSON). */
  priceStroops: string;
}

/** What the contract says now, for a call whose own outcome was a refusal. */
type OnChainStatus = 'Open' | 'Confirmed' | 'Cancelled' | 'missing';

export interface RedemptionRecordWritten {
  /** Undefined when nothing had to be written (the record was already in that state, or never opened). */
  txHash?: string;
  ledger?: number;
  /** Set when nothing was written: what the contract holds (`missing`: the record was never opened). */
  found?: 'Open' | 'Confirmed' | 'Cancelled' | 'missing';
}

/**
 * The redemption contract's record of each redemption, written by the platform account (its
 * admin) through the journal, each call at most once (its own journal key). The calls are
 * idempotent as steps of a saga: a cancel of a record never opened, or already cancelled, is
 * done; a confirm of one already confirmed is done. Anything the contract refuses otherwise is
 * final, typed with its error name.
 */
export function createRedemptionContractActivities(deps: {
  gateway: StellarGateway;
  contractCalls: ContractCallSource;
  /** Unset: redemptions are not configured, and every call fails RedemptionsDisabled. */
  redemptionContractId?: string;
}) {
  const { gateway, contractCalls } = deps;
  const admin = new ContractAdmin(gateway, contractCalls);

  function contractId(): string {
    if (!deps.redemptionContractId) {
      throw ApplicationFailure.nonRetryable(
        'this worker has no redemption contract configured (REDEMPTION_CONTRACT_ID or STELLAR_CONTRACTS_FILE)',
        'RedemptionsDisabled',
      );
    }
    return deps.redemptionContractId;
  }

  async function statusOf(id: string, redemptionId: string): Promise<OnChainStatus> {
    try {
      const value = await gateway.readContract({
        contractId: id,
        method: 'get',
        args: [nativeToScVal(redemptionId, { type: 'string' })],
        source: admin.account,
      });
      const record = scValToNative(value) as { status?: unknown } | undefined;
      const status = Array.isArray(record?.status) ? String(record.status[0]) : String(record?.status);
      return status as OnChainStatus;
    } catch (error) {
      if (error instanceof ContractError && error.code === NOT_FOUND) return 'missing';
      throw error;
    }
  }

  async function call(
    redemptionId: string,
    method: 'open' | 'confirm' | 'cancel',
    args: xdr.ScVal[],
    /** A refusal with this code may mean the record is already where the call takes it: `settled` says. */
    settledWhen: (status: OnChainStatus, code: number) => boolean,
  ): Promise<RedemptionRecordWritten> {
    const id = contractId();
    try {
      await admin.ensureInitialized(id);
      const landed = await contractCalls.invoke(
        { businessKey: redemptionKeys.contract(redemptionId, method), contractId: id, method, args },
        heartbeat,
      );
      return { txHash: landed.hash, ledger: landed.ledger };
    } catch (error) {
      if (error instanceof ContractError && error.code === NOT_INITIALIZED) throw admin.lostState(id);
      if (error instanceof ContractError) {
        // What the record is now decides; a read that fails is retried like any network error,
        // never taken for a missing record.
        let status: OnChainStatus;
        try {
          status = await statusOf(id, redemptionId);
        } catch (readError) {
          throw toActivityFailure(readError);
        }
        if (settledWhen(status, error.code)) return { found: status };
        throw contractRefusal(error, method, REDEMPTION_CONTRACT_ERRORS);
      }
      throw toActivityFailure(error);
    }
  }

  return {
    /** open(id, holder, merchant, amount): the redemption's record, Open. */
    async openRedemptionOnChain(input: RedemptionOpenInput): Promise<RedemptionRecordWritten> {
      return await call(
        input.redemptionId,
        'open',
        [
          nativeToScVal(input.redemptionId, { type: 'string' }),
          new Address(input.walletAddress).toScVal(),
          new Address(merchantChainAddress(input.merchantId)).toScVal(),
          nativeToScVal(BigInt(input.priceStroops), { type: 'i128' }),
        ],
        // Opened by an earlier attempt whose record this process did not keep: it is open.
        (status, code) => code === ALREADY_EXISTS && status === 'Open',
      );
    },

    /** confirm(id): the redemption was fulfilled. */
    async confirmRedemptionOnChain(input: { redemptionId: string }): Promise<RedemptionRecordWritten> {
      return await call(
        input.redemptionId,
        'confirm',
        [nativeToScVal(input.redemptionId, { type: 'string' })],
        (status, code) => code === NOT_OPEN && status === 'Confirmed',
      );
    },

    /**
     * cancel(id, reason): the compensation of open. A record never opened (NotFound) or already
     * cancelled is done; a confirmed one cannot be cancelled (final: NotOpen).
     */
    async cancelRedemptionOnChain(input: { redemptionId: string; reason: string }): Promise<RedemptionRecordWritten> {
      return await call(
        input.redemptionId,
        'cancel',
        [nativeToScVal(input.redemptionId, { type: 'string' }), xdr.ScVal.scvSymbol(input.reason)],
        (status, code) => (code === NOT_FOUND && status === 'missing') || (code === NOT_OPEN && status === 'Cancelled'),
      );
    },
  };
}

export type RedemptionContractActivities = ReturnType<typeof createRedemptionContractActivities>;
