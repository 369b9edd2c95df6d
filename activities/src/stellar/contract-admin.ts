import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { Address, scValToNative, type xdr } from '@stellar/stellar-sdk';
import type { ContractCallSource } from './contract-call-source';
import { ContractError } from './errors';
import type { StellarGateway } from './gateway';
import { heartbeat } from './payment-activities';

/** Every platform contract numbers these two errors the same (contracts/README.md, Conventions). */
export const ALREADY_INITIALIZED = 1;
export const NOT_INITIALIZED = 2;

/** A contract refusal as the workflow sees it: final, typed by the contract's error name, the code in details. */
export function contractRefusal(error: ContractError, method: string, names: Readonly<Record<number, string>>) {
  const name = names[error.code] ?? 'ContractError';
  return ApplicationFailure.create({
    message: `${method} refused by contract ${error.contractId}: ${name} (#${error.code})`,
    type: name,
    nonRetryable: true,
    details: [{ kind: 'ContractError', contractId: error.contractId, code: error.code, error: name }],
  });
}

/**
 * The platform account as the admin of its contracts: each contract is initialized lazily with
 * the platform account as admin, the first time this process needs it, and checked to be
 * administered by it. Shared by every contract's activities.
 */
export class ContractAdmin {
  private readonly initialized = new Set<string>();

  constructor(
    private readonly gateway: StellarGateway,
    private readonly contractCalls: ContractCallSource,
  ) {}

  get account(): string {
    return this.contractCalls.sourceAccount;
  }

  /** admin() answers -> initialized; NotInitialized -> initialize(platform account); AlreadyInitialized is fine. */
  async ensureInitialized(contractId: string): Promise<void> {
    if (this.initialized.has(contractId)) return;
    const readAdmin = () => this.gateway.readContract({ contractId, method: 'admin', args: [], source: this.account });
    try {
      this.checkAdmin(contractId, await readAdmin());
    } catch (error) {
      if (!(error instanceof ContractError && error.code === NOT_INITIALIZED)) throw error;
      heartbeat('initialize');
      try {
        // A key of its own per try: whether it landed is read from the contract, not from a record.
        await this.contractCalls.invoke(
          {
            businessKey: `contract/${contractId}/initialize/${randomUUID()}`,
            contractId,
            method: 'initialize',
            args: [new Address(this.account).toScVal()],
          },
          heartbeat,
        );
      } catch (initError) {
        if (!(initError instanceof ContractError && initError.code === ALREADY_INITIALIZED)) throw initError;
      }
      this.checkAdmin(contractId, await readAdmin());
    }
    this.initialized.add(contractId);
  }

  /**
   * A call failed NotInitialized: the contract lost its state under us (e.g. a reset network).
   * Forgets it, so the next attempt initializes it again, and answers the retryable failure.
   */
  lostState(contractId: string): ApplicationFailure {
    this.initialized.delete(contractId);
    return ApplicationFailure.retryable(`contract ${contractId} is not initialized`, 'ContractNotInitialized');
  }

  private checkAdmin(contractId: string, value: xdr.ScVal): void {
    const current: unknown = scValToNative(value);
    // The sandbox's interface-only runtime answers every call with Void: nothing to compare.
    if (typeof current === 'string' && current !== this.account) {
      throw ApplicationFailure.nonRetryable(
        `contract ${contractId} is administered by ${current}, not by the platform account ${this.account}`,
        'ContractAdminMismatch',
      );
    }
  }
}
