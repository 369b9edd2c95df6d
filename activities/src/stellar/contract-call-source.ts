import { randomUUID } from 'node:crypto';
import type { Keypair, xdr } from '@stellar/stellar-sdk';
import type { Clock } from '../clock';
import { StellarUnavailableError } from './errors';
import type { StellarGateway } from './gateway';
import type { ChannelPool, EnvelopeSource, JournalItem, TransactionJournal } from './journal';

export interface ContractCallRequest {
  /** The business record calling, e.g. "campaign/<id>/change/<seq>": its call lands at most once. */
  businessKey: string;
  contractId: string;
  method: string;
  args: xdr.ScVal[];
}

export interface ContractCallSourceOptions {
  journal: TransactionJournal;
  gateway: StellarGateway;
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
 * The journal's source of platform-signed Soroban contract calls: lease the source account,
 * simulate, assemble (footprint, resources, fee) and sign. The journal persists the signed
 * transaction before sending it, so a retried activity looks its hash up instead of calling the
 * contract a second time (which the contract would refuse: CampaignExists, AlreadyPaused, ...,
 * and the platform would report a refusal for a change that is on chain).
 */
export class ContractCallSource implements EnvelopeSource<ContractCallRequest> {
  readonly kind = 'contract_call' as const;

  constructor(private readonly options: ContractCallSourceOptions) {}

  get sourceAccount(): string {
    return this.options.source.publicKey();
  }

  /** Calls the contract exactly once per business key (see TransactionJournal). */
  invoke(request: ContractCallRequest, onProgress?: (step: string) => void) {
    return this.options.journal.run(request.businessKey, this, request, onProgress);
  }

  async prepare(
    request: ContractCallRequest,
    attempt: number,
    onProgress: (step: string) => void,
  ): Promise<JournalItem | undefined> {
    const id = randomUUID();
    await this.lockSource(id, onProgress);
    try {
      onProgress('simulate');
      const signed = await this.options.gateway.prepareContractCall({
        contractId: request.contractId,
        method: request.method,
        args: request.args,
        source: this.options.source,
        timeoutSeconds: this.options.transactionTimeoutSeconds,
      });
      const { items } = await this.options.journal.record(
        {
          id,
          source: 'contract_call',
          envelopeXdr: signed.envelopeXdr,
          contractId: request.contractId,
          method: request.method,
        },
        [{ opIndex: 0, businessKey: request.businessKey, attempt, destination: null, amountStroops: null, memo: null }],
      );
      if (items.length === 0) await this.options.sourceLock.release(id); // a concurrent attempt stored it first
      return items[0];
    } catch (error) {
      // Refused in simulation (or before): nothing was sent, the source is free again.
      await this.options.sourceLock.release(id).catch(() => undefined);
      throw error;
    }
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
}
