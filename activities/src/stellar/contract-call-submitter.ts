import { randomUUID } from 'node:crypto';
import type { Keypair, xdr } from '@stellar/stellar-sdk';
import type { Clock } from '../clock';
import {
  ContractError,
  StellarUnavailableError,
  TransactionRejectedError,
  translateStellarError,
  type ResultCodes,
} from './errors';
import type { SignedEnvelope, StellarGateway } from './gateway';
import type { ChannelPool } from './payment-submitter';

export type ContractCallStatus = 'built' | 'submitted' | 'landed' | 'failed' | 'expired' | 'refused';

export interface StoredContractCall {
  id: string;
  businessKey: string;
  attempt: number;
  contractId: string;
  method: string;
  sourceAccount: string;
  hash: string;
  envelopeXdr: string;
  maxTime: Date;
  status: ContractCallStatus;
  ledger: number | null;
}

/** Where signed contract calls are persisted before their first submission (PostgreSQL). */
export interface ContractCallStore {
  /** Every call of a business record, oldest attempt first. */
  list(businessKey: string): Promise<StoredContractCall[]>;
  /** False when another caller already stored this (businessKey, attempt). */
  insert(call: Omit<StoredContractCall, 'status' | 'ledger'>): Promise<boolean>;
  setStatus(
    id: string,
    status: ContractCallStatus,
    details?: { ledger?: number; contractErrorCode?: number; resultCodes?: ResultCodes },
  ): Promise<void>;
}

export interface ContractCallRequest {
  /** The business record calling, e.g. "campaign/<id>/change/<seq>": its call lands at most once. */
  businessKey: string;
  contractId: string;
  method: string;
  args: xdr.ScVal[];
}

export interface ContractCallConfirmation {
  hash: string;
  ledger: number;
  attempt: number;
  /** True when an earlier attempt had already landed (a retry called nothing again). */
  alreadyLanded: boolean;
}

export interface ContractCallSubmitterOptions {
  gateway: StellarGateway;
  calls: ContractCallStore;
  /**
   * Leases the source account, so that no two of the platform's contract calls are in
   * flight from it at once (they would share a sequence number and one would fail tx_bad_seq).
   */
  sourceLock: ChannelPool;
  /** The account that sources and signs the calls: the contracts' admin. */
  source: Keypair;
  clock: Clock;
  /** Upper time bound of each call's transaction, from its build time. */
  transactionTimeoutSeconds: number;
  /** A lease outlives its transaction's upper bound by this much (clock skew with the network). */
  leaseMarginSeconds: number;
  /** How long to wait for the source account before reporting a (retryable) failure. */
  lockWaitMs?: number;
}

/**
 * Calls a Soroban contract at most once per business key, through the gateway's
 * simulate -> prepare -> sign -> send -> poll path, whatever fails in between.
 *
 * Why not just call again on a retry: a retried activity cannot know whether its earlier
 * transaction landed. Calling again would make the contract refuse what already happened
 * (CampaignExists, AlreadyPaused, ...) and the platform would report a refusal for a change
 * that is on chain. So, like payments (payment-submitter.ts), each call re-runs from what
 * is persisted:
 * 1. A call already landed -> done.
 * 2. A pending call (persisted, maybe sent): look its hash up. Landed -> done; failed -> its
 *    error (final). Not found: if a ledger closed past its upper time bound it can never
 *    land -> expired, go on to 3; otherwise resubmit the SAME envelope.
 * 3. Lease the source account, simulate, sign, PERSIST, and only then submit. A refusal at
 *    the door (ERROR: never queued) -> refused; a timeout leaves it pending (retryable).
 */
export class ContractCallSubmitter {
  constructor(private readonly options: ContractCallSubmitterOptions) {}

  get sourceAccount(): string {
    return this.options.source.publicKey();
  }

  /** @param onProgress called between network round trips (activities heartbeat there). */
  async invoke(
    request: ContractCallRequest,
    onProgress: (step: string) => void = () => undefined,
  ): Promise<ContractCallConfirmation> {
    const { gateway, calls } = this.options;
    const existing = await calls.list(request.businessKey);
    const landed = existing.find((call) => call.status === 'landed');
    if (landed) return { hash: landed.hash, ledger: landed.ledger ?? 0, attempt: landed.attempt, alreadyLanded: true };

    for (const call of existing.filter((c) => c.status === 'built' || c.status === 'submitted')) {
      onProgress('lookup');
      const found = await gateway.contractTransaction(call.hash);
      if (found.found && found.successful) {
        await this.settle(call, 'landed', { ledger: found.ledger });
        return { hash: call.hash, ledger: found.ledger, attempt: call.attempt, alreadyLanded: true };
      }
      if (found.found) return await this.failed(call, found);
      if (found.latestLedgerCloseTime.getTime() <= call.maxTime.getTime()) {
        return await this.resubmit(call, onProgress);
      }
      await this.settle(call, 'expired');
    }

    const attempt = existing.reduce((max, call) => Math.max(max, call.attempt), 0) + 1;
    return await this.buildAndSubmit(request, attempt, onProgress);
  }

  private async buildAndSubmit(
    request: ContractCallRequest,
    attempt: number,
    onProgress: (step: string) => void,
  ): Promise<ContractCallConfirmation> {
    const { gateway, calls } = this.options;
    const id = randomUUID();
    await this.lockSource(id, onProgress);
    let stored: StoredContractCall | undefined;
    try {
      onProgress('simulate');
      const result = await gateway.invokeContract({
        contractId: request.contractId,
        method: request.method,
        args: request.args,
        source: this.options.source,
        timeoutSeconds: this.options.transactionTimeoutSeconds,
        beforeSubmit: async (envelope: SignedEnvelope) => {
          const call = {
            id,
            businessKey: request.businessKey,
            attempt,
            contractId: request.contractId,
            method: request.method,
            sourceAccount: this.sourceAccount,
            hash: envelope.hash,
            envelopeXdr: envelope.envelopeXdr,
            maxTime: envelope.maxTime,
          };
          if (!(await calls.insert(call))) {
            // A concurrent attempt stored this one first: follow it on the next try.
            throw new StellarUnavailableError(`another attempt of ${request.businessKey} is in flight`, 1);
          }
          await calls.setStatus(id, 'submitted');
          stored = { ...call, status: 'submitted', ledger: null };
          onProgress('submit');
        },
      });
      await this.settle(stored!, 'landed', { ledger: result.ledger });
      return { hash: result.hash, ledger: result.ledger, attempt, alreadyLanded: false };
    } catch (raw) {
      if (!stored) {
        // Refused in simulation (or before): nothing was sent, the source is free again.
        await this.options.sourceLock.release(id);
        throw raw;
      }
      return await this.settleAfterError(stored, raw);
    }
  }

  /** Resubmits a pending call's own envelope (never a new one while it may still land). */
  private async resubmit(
    call: StoredContractCall,
    onProgress: (step: string) => void,
  ): Promise<ContractCallConfirmation> {
    onProgress('resubmit');
    try {
      const result = await this.options.gateway.submitContractTransaction(
        { hash: call.hash, envelopeXdr: call.envelopeXdr, maxTime: call.maxTime },
        call.contractId,
      );
      await this.settle(call, 'landed', { ledger: result.ledger });
      return { hash: call.hash, ledger: result.ledger, attempt: call.attempt, alreadyLanded: false };
    } catch (raw) {
      return await this.settleAfterError(call, raw);
    }
  }

  /**
   * After a submission failed: settles what is known for certain and throws; a call whose
   * outcome is unknown stays pending (the next attempt looks it up first).
   */
  private async settleAfterError(call: StoredContractCall, raw: unknown): Promise<ContractCallConfirmation> {
    const error = translateStellarError(raw, call.hash);
    if (error instanceof ContractError) {
      // Included in a ledger, and the contract refused it.
      await this.settle(call, 'failed', { contractErrorCode: error.code });
      throw error;
    }
    if (error instanceof TransactionRejectedError && error.ledger !== undefined) {
      await this.settle(call, 'failed', { ledger: error.ledger, resultCodes: error.resultCodes });
      throw error;
    }
    if (error instanceof TransactionRejectedError) {
      // Refused at the door, never queued -- unless an earlier copy of it is in a ledger
      // (a resubmission of a landed transaction is refused for its used sequence number).
      const found = await this.options.gateway.contractTransaction(call.hash);
      if (found.found && found.successful) {
        await this.settle(call, 'landed', { ledger: found.ledger });
        return { hash: call.hash, ledger: found.ledger, attempt: call.attempt, alreadyLanded: true };
      }
      if (found.found) return await this.failed(call, found);
      await this.settle(call, 'refused', { resultCodes: error.resultCodes });
    }
    throw error;
  }

  /** A call found in a ledger, failed: settled as such, and its error thrown (final). */
  private async failed(
    call: StoredContractCall,
    found: { ledger: number; resultCodes: ResultCodes; contractErrorCode?: number },
  ): Promise<never> {
    await this.settle(call, 'failed', {
      ledger: found.ledger,
      resultCodes: found.resultCodes,
      ...(found.contractErrorCode !== undefined ? { contractErrorCode: found.contractErrorCode } : {}),
    });
    if (found.contractErrorCode !== undefined) {
      throw new ContractError(`contract error #${found.contractErrorCode}`, call.contractId, found.contractErrorCode);
    }
    throw new TransactionRejectedError(`contract call ${call.hash} failed`, found.resultCodes, found.ledger);
  }

  /**
   * Leases the source account until a transaction built now could no longer land (its upper
   * time bound plus the margin), computed at each try so that waiting never shortens the lease.
   */
  private async lockSource(holder: string, onProgress: (step: string) => void): Promise<void> {
    const { clock, transactionTimeoutSeconds, leaseMarginSeconds } = this.options;
    const deadline = Date.now() + (this.options.lockWaitMs ?? 15_000);
    for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
      const until = new Date(clock.now().getTime() + (transactionTimeoutSeconds + leaseMarginSeconds) * 1000);
      if (await this.options.sourceLock.lease(holder, until)) return;
      if (Date.now() >= deadline) {
        // About one ledger: the account frees up when the call in flight lands.
        throw new StellarUnavailableError(`account ${this.sourceAccount} is busy with another contract call`, 1);
      }
      onProgress('waiting for the source account');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  private async settle(
    call: StoredContractCall,
    status: 'landed' | 'failed' | 'expired' | 'refused',
    details?: { ledger?: number; contractErrorCode?: number; resultCodes?: ResultCodes },
  ): Promise<void> {
    await this.options.calls.setStatus(call.id, status, details);
    await this.options.sourceLock.release(call.id);
  }
}
