/**
 * The platform's Soroban contracts as the sandbox knows them today: their declared interface
 * (function -> argument ScVal types) and a ContractRuntime that checks calls against it.
 * A native contract host can replace InterfaceOnlyContractRuntime behind the same interface.
 */
import { Address, StrKey, xdr } from '@stellar/stellar-sdk';
import { sha256 } from './envelope';
import type { ContractDeployment } from './ledger-state';

export type ContractArgType = 'Address' | 'String' | 'i128' | 'u64' | 'Symbol' | 'bool' | 'BytesN<32>';

export interface ContractArgSpec {
  name: string;
  type: ContractArgType;
}

export const CONTRACT_NAMES = ['campaign', 'redemption', 'vesting'] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];

type InterfaceTable = Record<ContractName, Record<string, readonly ContractArgSpec[]>>;

const arg = (name: string, type: ContractArgType): ContractArgSpec => ({ name, type });

/** Mirrors contracts/ (campaign, redemption, vesting): keep in step with the Rust crates. */
export const CONTRACT_INTERFACES: InterfaceTable = {
  campaign: {
    initialize: [arg('admin', 'Address')],
    register: [
      arg('id', 'String'),
      arg('merchant', 'Address'),
      arg('budget', 'i128'),
      arg('starts_at', 'u64'),
      arg('ends_at', 'u64'),
    ],
    update: [arg('id', 'String'), arg('budget', 'i128'), arg('ends_at', 'u64')],
    pause: [arg('id', 'String')],
    resume: [arg('id', 'String')],
    get: [arg('id', 'String')],
  },
  redemption: {
    initialize: [arg('admin', 'Address')],
    open: [arg('id', 'String'), arg('holder', 'Address'), arg('merchant', 'Address'), arg('amount', 'i128')],
    confirm: [arg('id', 'String')],
    cancel: [arg('id', 'String'), arg('reason', 'Symbol')],
    get: [arg('id', 'String')],
  },
  vesting: {
    initialize: [arg('admin', 'Address')],
    create_schedule: [
      arg('id', 'String'),
      arg('beneficiary', 'Address'),
      arg('total', 'i128'),
      arg('start', 'u64'),
      arg('cliff', 'u64'),
      arg('end', 'u64'),
      arg('interval', 'u64'),
      arg('revocable', 'bool'),
    ],
    record_release: [arg('id', 'String'), arg('amount', 'i128'), arg('payment_hash', 'BytesN<32>')],
    revoke: [arg('id', 'String')],
    vested: [arg('id', 'String')],
    released: [arg('id', 'String')],
    get: [arg('id', 'String')],
  },
};

export interface ContractCall {
  contractId: string;
  functionName: string;
  args: xdr.ScVal[];
  /** The invoking account (the operation's source). */
  invoker: string;
  ledgerSequence: number;
  closeTime: number;
}

export interface EmittedContractEvent {
  contractId: string;
  topics: xdr.ScVal[];
  data: xdr.ScVal;
}

/** A host-level failure as soroban-env-host names it (ScErrorType, ScErrorCode) or a contract error number. */
export interface ContractFailure {
  type: 'WasmVm' | 'Value' | 'Storage' | 'Contract';
  code: string | number;
  message: string;
}

export type ContractOutcome =
  { ok: true; returnValue: xdr.ScVal; events: EmittedContractEvent[] } | { ok: false; failure: ContractFailure };

export interface ContractRuntime {
  readonly deployments: readonly ContractDeployment[];
  /** Runs a call without committing anything (simulateTransaction). */
  simulate(call: ContractCall): ContractOutcome;
  /** Runs a call inside a closing ledger; the caller commits the outcome. */
  invoke(call: ContractCall): ContractOutcome;
}

/** Checks calls against CONTRACT_INTERFACES and emits one event per accepted call; keeps no contract state. */
export class InterfaceOnlyContractRuntime implements ContractRuntime {
  /** Read live: deployments made after construction (at genesis) are callable at once. */
  constructor(readonly deployments: readonly ContractDeployment[]) {}

  simulate(call: ContractCall): ContractOutcome {
    return this.check(call);
  }

  invoke(call: ContractCall): ContractOutcome {
    return this.check(call);
  }

  private check(call: ContractCall): ContractOutcome {
    const deployment = this.deployments.find((candidate) => candidate.contractId === call.contractId);
    if (!deployment) {
      return failure('Storage', 'MissingValue', `contract ${call.contractId} is not deployed on this network`);
    }
    const functions = CONTRACT_INTERFACES[deployment.name as ContractName];
    const specs = Object.prototype.hasOwnProperty.call(functions, call.functionName)
      ? functions[call.functionName]
      : undefined;
    if (!specs) {
      return failure(
        'WasmVm',
        'MissingValue',
        `trying to invoke non-existent contract function ${deployment.name}.${call.functionName}`,
      );
    }
    if (call.args.length !== specs.length) {
      return failure(
        'WasmVm',
        'UnexpectedSize',
        `${deployment.name}.${call.functionName} takes ${specs.length} arguments, got ${call.args.length}`,
      );
    }
    for (const [index, spec] of specs.entries()) {
      const value = call.args[index] as xdr.ScVal;
      if (!matchesType(value, spec.type)) {
        return failure(
          'Value',
          'UnexpectedType',
          `argument ${index} (${spec.name}) of ${deployment.name}.${call.functionName} must be ${spec.type}, got ${describe(value)}`,
        );
      }
    }
    const topics: xdr.ScVal[] = [xdr.ScVal.scvSymbol(call.functionName)];
    const first = call.args[0];
    if (first) topics.push(first);
    return {
      ok: true,
      returnValue: xdr.ScVal.scvVoid(),
      events: [{ contractId: call.contractId, topics, data: xdr.ScVal.scvVec(call.args) }],
    };
  }
}

function failure(type: ContractFailure['type'], code: string | number, message: string): ContractOutcome {
  return { ok: false, failure: { type, code, message } };
}

function matchesType(value: xdr.ScVal, type: ContractArgType): boolean {
  const kind = value.switch().name;
  switch (type) {
    case 'Address':
      return kind === 'scvAddress';
    case 'String':
      return kind === 'scvString';
    case 'i128':
      return kind === 'scvI128';
    case 'u64':
      return kind === 'scvU64';
    case 'Symbol':
      return kind === 'scvSymbol';
    case 'bool':
      return kind === 'scvBool';
    case 'BytesN<32>':
      return kind === 'scvBytes' && value.bytes().length === 32;
  }
}

function describe(value: xdr.ScVal): string {
  const kind = value.switch().name;
  return kind === 'scvBytes' ? `Bytes(${value.bytes().length})` : kind.replace(/^scv/, '');
}

/** The message shape soroban-env-host gives simulation and diagnostic errors. */
export function hostErrorMessage(failure: ContractFailure): string {
  const code = typeof failure.code === 'number' ? `#${failure.code}` : failure.code;
  return `HostError: Error(${failure.type}, ${code})\n\nEvent log (newest first):\n   0: ${failure.message}`;
}

/**
 * Contract id as the network derives it for a contract deployed by `deployer` with a salt
 * (HashIdPreimage CONTRACT_ID): the same passphrase and deployer always give the same ids.
 */
export function deterministicContractId(networkId: Buffer, deployer: string, name: string): string {
  const preimage = xdr.HashIdPreimage.envelopeTypeContractId(
    new xdr.HashIdPreimageContractId({
      networkId,
      contractIdPreimage: xdr.ContractIdPreimage.contractIdPreimageFromAddress(
        new xdr.ContractIdPreimageFromAddress({
          address: new Address(deployer).toScAddress(),
          salt: sha256(Buffer.from(`nova-rewards:${name}`, 'utf8')),
        }),
      ),
    }),
  );
  return StrKey.encodeContract(sha256(preimage.toXDR()));
}

export function interfaceWasmHash(name: ContractName): string {
  return sha256(Buffer.from(JSON.stringify({ name, functions: CONTRACT_INTERFACES[name] }), 'utf8')).toString('hex');
}

export function contractNameOf(deployments: readonly ContractDeployment[], contractId: string): string | undefined {
  return deployments.find((deployment) => deployment.contractId === contractId)?.name;
}

export function contractInstanceKey(contractId: string): xdr.LedgerKey {
  return xdr.LedgerKey.contractData(
    new xdr.LedgerKeyContractData({
      contract: new Address(contractId).toScAddress(),
      key: xdr.ScVal.scvLedgerKeyContractInstance(),
      durability: xdr.ContractDataDurability.persistent(),
    }),
  );
}

export function contractCodeKey(wasmHashHex: string): xdr.LedgerKey {
  return xdr.LedgerKey.contractCode(new xdr.LedgerKeyContractCode({ hash: Buffer.from(wasmHashHex, 'hex') }));
}

/** The instance entry RPC serves for a deployed contract (ContractData, persistent, instance key). */
export function contractInstanceEntry(deployment: ContractDeployment): xdr.LedgerEntryData {
  return xdr.LedgerEntryData.contractData(
    new xdr.ContractDataEntry({
      ext: new xdr.ExtensionPoint(0),
      contract: new Address(deployment.contractId).toScAddress(),
      key: xdr.ScVal.scvLedgerKeyContractInstance(),
      durability: xdr.ContractDataDurability.persistent(),
      val: xdr.ScVal.scvContractInstance(
        new xdr.ScContractInstance({
          executable: xdr.ContractExecutable.contractExecutableWasm(Buffer.from(deployment.wasmHash, 'hex')),
          storage: null,
        }),
      ),
    }),
  );
}
