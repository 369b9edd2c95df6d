import { ApplicationFailure } from '@temporalio/common';
import { Address, nativeToScVal, scValToNative, type xdr } from '@stellar/stellar-sdk';
import { vestingKeys } from '@nova/domain';
import { ContractAdmin, contractRefusal, NOT_INITIALIZED } from './contract-admin';
import type { ContractCallSource } from './contract-call-source';
import { ContractError } from './errors';
import type { StellarGateway } from './gateway';
import { heartbeat, toActivityFailure } from './payment-activities';

/** The vesting contract's numbered errors (contracts/vesting/src/errors.rs): the failure types they surface as. */
export const VESTING_CONTRACT_ERRORS: Readonly<Record<number, string>> = {
  1: 'AlreadyInitialized',
  2: 'NotInitialized',
  3: 'ScheduleExists',
  4: 'ScheduleNotFound',
  5: 'InvalidAmount',
  6: 'InvalidSchedule',
  7: 'InvalidInterval',
  8: 'InvalidId',
  9: 'ExceedsTotal',
  10: 'ExceedsVested',
  11: 'NotRevocable',
  12: 'AlreadyRevoked',
  13: 'PaymentAlreadyRecorded',
  14: 'ArithmeticOverflow',
};
const SCHEDULE_EXISTS = 3;
const ALREADY_REVOKED = 12;
const PAYMENT_ALREADY_RECORDED = 13;

export interface VestingScheduleOnChain {
  beneficiary: string;
  total: bigint;
  released: bigint;
  revokedAt: number | null;
}

/** The call's transaction; absent when the contract showed its work already done (by a call the journal has no record of). */
export interface VestingCallLanded {
  txHash?: string;
  ledger?: number;
}

/** Seconds since the epoch, as the contract keeps time. */
const seconds = (iso: string) => nativeToScVal(BigInt(Math.floor(new Date(iso).getTime() / 1000)), { type: 'u64' });

/**
 * The vesting contract's record of each schedule, written by the platform account (its admin)
 * through the journal, each call at most once (its own journal key): anyone can audit on chain
 * what was granted, what was released and by which payment. A refusal that says the call's
 * work is already done (the schedule exists with these terms, the payment is recorded, the
 * schedule is revoked) answers the call as done; any other refusal is final, typed with the
 * contract's error name.
 */
export function createVestingContractActivities(deps: {
  gateway: StellarGateway;
  contractCalls: ContractCallSource;
  /** Unset: vesting is not configured, and every call fails VestingDisabled. */
  vestingContractId?: string;
}) {
  const { gateway, contractCalls } = deps;
  const admin = new ContractAdmin(gateway, contractCalls);

  function contractId(): string {
    if (!deps.vestingContractId) {
      throw ApplicationFailure.nonRetryable(
        'this worker has no vesting contract configured (VESTING_CONTRACT_ID or STELLAR_CONTRACTS_FILE)',
        'VestingDisabled',
      );
    }
    return deps.vestingContractId;
  }

  async function read(id: string, scheduleId: string): Promise<VestingScheduleOnChain | undefined> {
    try {
      const value = await gateway.readContract({
        contractId: id,
        method: 'get',
        args: [nativeToScVal(scheduleId, { type: 'string' })],
        source: admin.account,
      });
      const view = scValToNative(value) as {
        beneficiary: string;
        total: bigint;
        released: bigint;
        revoked_at?: bigint | null;
      } | null;
      // The sandbox's interface-only runtime answers every call with Void: no record to read.
      if (!view || typeof view !== 'object') return undefined;
      return {
        beneficiary: view.beneficiary,
        total: BigInt(view.total),
        released: BigInt(view.released),
        revokedAt: view.revoked_at === undefined || view.revoked_at === null ? null : Number(view.revoked_at),
      };
    } catch (error) {
      if (error instanceof ContractError && VESTING_CONTRACT_ERRORS[error.code] === 'ScheduleNotFound') {
        return undefined;
      }
      throw error;
    }
  }

  async function call(
    scheduleId: string,
    businessKey: string,
    method: 'create_schedule' | 'record_release' | 'revoke',
    args: xdr.ScVal[],
    /** A refusal with this code may mean the call's work is done: `done` says, from the record as it is now. */
    done: (code: number, record: VestingScheduleOnChain | undefined) => boolean,
  ): Promise<VestingCallLanded> {
    const id = contractId();
    try {
      await admin.ensureInitialized(id);
      const landed = await contractCalls.invoke({ businessKey, contractId: id, method, args }, heartbeat);
      return { txHash: landed.hash, ledger: landed.ledger };
    } catch (error) {
      if (error instanceof ContractError && error.code === NOT_INITIALIZED) throw admin.lostState(id);
      if (error instanceof ContractError) {
        // A read that fails is retried like any network error, never taken for a missing record.
        let record: VestingScheduleOnChain | undefined;
        try {
          record = await read(id, scheduleId);
        } catch (readError) {
          throw toActivityFailure(readError);
        }
        // Done by a call this journal has no record of: no transaction of its own to show.
        if (done(error.code, record)) return {};
        throw contractRefusal(error, method, VESTING_CONTRACT_ERRORS);
      }
      throw toActivityFailure(error);
    }
  }

  return {
    /** create_schedule(id, beneficiary, total, start, cliff, end, 1 s, revocable): see vestedAt for the one-second interval. */
    async registerVestingOnChain(input: {
      scheduleId: string;
      beneficiary: string;
      totalStroops: string;
      startAt: string;
      cliffAt: string;
      endAt: string;
      revocable: boolean;
    }): Promise<VestingCallLanded> {
      return await call(
        input.scheduleId,
        vestingKeys.create(input.scheduleId),
        'create_schedule',
        [
          nativeToScVal(input.scheduleId, { type: 'string' }),
          new Address(input.beneficiary).toScVal(),
          nativeToScVal(BigInt(input.totalStroops), { type: 'i128' }),
          seconds(input.startAt),
          seconds(input.cliffAt),
          seconds(input.endAt),
          // Linear in whole seconds, as the platform's releases are computed: every release the
          // workflow pays is within what the contract sees vested when it is recorded.
          nativeToScVal(1n, { type: 'u64' }),
          nativeToScVal(input.revocable, { type: 'bool' }),
        ],
        (code, record) =>
          code === SCHEDULE_EXISTS &&
          record?.beneficiary === input.beneficiary &&
          record.total === BigInt(input.totalStroops),
      );
    },

    /** record_release(id, amount, payment_hash): once per payment, keyed by the newest release it paid (0: the revocation's). */
    async recordVestingReleaseOnChain(input: {
      scheduleId: string;
      releaseNumber: number;
      amountStroops: string;
      paymentTxHash: string;
    }): Promise<VestingCallLanded> {
      return await call(
        input.scheduleId,
        vestingKeys.record(input.scheduleId, input.releaseNumber),
        'record_release',
        [
          nativeToScVal(input.scheduleId, { type: 'string' }),
          nativeToScVal(BigInt(input.amountStroops), { type: 'i128' }),
          nativeToScVal(Buffer.from(input.paymentTxHash, 'hex'), { type: 'bytes' }),
        ],
        (code) => code === PAYMENT_ALREADY_RECORDED,
      );
    },

    /** revoke(id): vesting frozen on chain at the ledger's time, read back as `revokedAt`. */
    async revokeVestingOnChain(input: { scheduleId: string }): Promise<VestingCallLanded & { revokedAt?: string }> {
      const landed = await call(
        input.scheduleId,
        vestingKeys.revoke(input.scheduleId),
        'revoke',
        [nativeToScVal(input.scheduleId, { type: 'string' })],
        (code, record) => code === ALREADY_REVOKED && record?.revokedAt !== null,
      );
      let record: VestingScheduleOnChain | undefined;
      try {
        record = await read(contractId(), input.scheduleId);
      } catch (error) {
        throw toActivityFailure(error);
      }
      return record?.revokedAt ? { ...landed, revokedAt: new Date(record.revokedAt * 1000).toISOString() } : landed;
    },

    /** The schedule as the contract holds it (undefined: not registered), for tests and operators. */
    async readVestingOnChain(input: { scheduleId: string }): Promise<VestingScheduleOnChain | undefined> {
      try {
        return await read(contractId(), input.scheduleId);
      } catch (error) {
        throw toActivityFailure(error);
      }
    },
  };
}

export type VestingContractActivities = ReturnType<typeof createVestingContractActivities>;
