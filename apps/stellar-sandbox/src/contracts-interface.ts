/**
 * The platform's Soroban contracts as the sandbox knows them: their declared interface
 * (function -> argument ScVal types) and the ContractRuntime that runs calls. Two runtimes:
 * InterfaceOnlyContractRuntime (checks calls against the interface, keeps no contract state)
 * and NativeContractRuntime (native-contract-runtime.ts: the real contracts on nova-contract-host).
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

/**
 * Mirrors contracts/ (campaign, redemption, vesting): keep in step with the Rust crates
 * (test/native-contracts.test.ts compares it with what nova-contract-host serves).
 */
export const CONTRACT_INTERFACES: InterfaceTable = {
  campaign: {
    initialize: [arg('admin', 'Address')],
    admin: [],
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
    admin: [],
    open: [arg('id', 'String'), arg('holder', 'Address'), arg('merchant', 'Address'), arg('amount', 'i128')],
    confirm: [arg('id', 'String')],
    cancel: [arg('id', 'String'), arg('reason', 'Symbol')],
    get: [arg('id', 'String')],
  },
  vesting: {
    initialize: [arg('admin', 'Address')],
    admin: [],
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

/** soroban-env-host's ScErrorType names. */
export const HOST_ERROR_TYPES = [
  'Contract',
  'WasmVm',
  'Context',
  'Storage',
  'Object',
  'Crypto',
  'Events',
  'Budget',
  'Value',
  'Auth',
] as const;
export type HostErrorType = (typeof HOST_ERROR_TYPES)[number];

/** soroban-env-host's ScErrorCode names (the code of every error type but Contract). */
export const HOST_ERROR_CODES = [
  'ArithDomain',
  'IndexBounds',
  'InvalidInput',
  'MissingValue',
  'ExistingValue',
  'ExceededLimit',
  'InvalidAction',
  'InternalError',
  'UnexpectedType',
  'UnexpectedSize',
] as const;
export type HostErrorCode = (typeof HOST_ERROR_CODES)[number];

/**
 * A failed call as soroban-env-host reports it: `Error(Contract, #<n>)` for the contract's own
 * numbered error, else `Error(<ScErrorType>, <ScErrorCode>)`, with the host's message about it.
 */
export interface ContractFailure {
  type: HostErrorType;
  /** The contract's error number for type Contract, else an ScErrorCode name. */
  code: HostErrorCode | number;
  message: string;
}

export type ContractOutcome =
  { ok: true; returnValue: xdr.ScVal; events: EmittedContractEvent[] } | { ok: false; failure: ContractFailure };

export interface ContractRuntime {
  /** How calls run: 'interface-only' or 'native' (logged once at start, served by /sandbox/contracts). */
  readonly mode: string;
  readonly deployments: readonly ContractDeployment[];
  /** Runs a call without committing anything (simulateTransaction). */
  simulate(call: ContractCall): Promise<ContractOutcome>;
  /**
   * Runs a call inside a closing ledger and keeps its effects when it succeeds. Calls arrive one
   * at a time, in ledger order: the closer awaits each before applying the next transaction.
   */
  invoke(call: ContractCall): Promise<ContractOutcome>;
  /** Called once the contracts are deployed (genesis) and before any request is served; may refuse to start. */
  ready?(): Promise<void>;
  /** Releases what the runtime holds (connections); Sandbox.close() calls it last. */
  close?(): Promise<void>;
}

/** The deployment and interface a call is addressed to, or the failure the network reports for a call it cannot make. */
export function checkContractCall(
  deployments: readonly ContractDeployment[],
  call: Pick<ContractCall, 'contractId' | 'functionName' | 'args'>,
): { ok: true; deployment: ContractDeployment } | { ok: false; failure: ContractFailure } {
  const deployment = deployments.find((candidate) => candidate.contractId === call.contractId);
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
  return { ok: true, deployment };
}

/** Checks calls against CONTRACT_INTERFACES and emits one event per accepted call; keeps no contract state. */
export class InterfaceOnlyContractRuntime implements ContractRuntime {
  readonly mode = 'interface-only';

  /** Read live: deployments made after construction (at genesis) are callable at once. */
  constructor(readonly deployments: readonly ContractDeployment[]) {}

  simulate(call: ContractCall): Promise<ContractOutcome> {
    return Promise.resolve(this.check(call));
  }

  invoke(call: ContractCall): Promise<ContractOutcome> {
    return Promise.resolve(this.check(call));
  }

  private check(call: ContractCall): ContractOutcome {
    const checked = checkContractCall(this.deployments, call);
    if (!checked.ok) return checked;
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

function failure(
  type: HostErrorType,
  code: HostErrorCode | number,
  message: string,
): { ok: false; failure: ContractFailure } {
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

/** `Error(Contract, #3)`, `Error(Auth, InvalidAction)`: how soroban-env-host prints an error. */
export function hostErrorText(failure: Pick<ContractFailure, 'type' | 'code'>): string {
  const code = typeof failure.code === 'number' ? `#${failure.code}` : failure.code;
  return `Error(${failure.type}, ${code})`;
}

/** The message shape soroban-env-host gives simulation and diagnostic errors. */
export function hostErrorMessage(failure: ContractFailure): string {
  return `HostError: ${hostErrorText(failure)}\n\nEvent log (newest first):\n   0: ${failure.message}`;
}

/** The ScVal of an error (`ScVal::Error`), as the host puts it in a diagnostic event's topics. */
export function hostErrorScVal(failure: Pick<ContractFailure, 'type' | 'code'>): xdr.ScVal {
  if (failure.type === 'Contract') {
    return xdr.ScVal.scvError(xdr.ScError.sceContract(typeof failure.code === 'number' ? failure.code : 0));
  }
  // Only a contract error carries a number; anything else numbered is the host's internal error.
  const code =
    typeof failure.code === 'number' ? xdr.ScErrorCode.scecInternalError() : xdr.ScErrorCode[`scec${failure.code}`]();
  return xdr.ScVal.scvError(xdr.ScError[`sce${failure.type}`](code));
}

/**
 * The diagnostic event the host emits when a call fails (what RPC returns with a failed
 * transaction or simulation): topics `[Symbol("error"), Error(<type>, <code>)]`, data the message.
 */
export function failureDiagnosticEvent(contractId: string | undefined, failure: ContractFailure): xdr.DiagnosticEvent {
  return new xdr.DiagnosticEvent({
    inSuccessfulContractCall: false,
    event: new xdr.ContractEvent({
      ext: new xdr.ExtensionPoint(0),
      // The typings declare Hash as Opaque[]; at run time js-xdr takes (and returns) a Buffer.
      contractId:
        contractId && StrKey.isValidContract(contractId)
          ? (StrKey.decodeContract(contractId) as unknown as xdr.ContractId)
          : null,
      type: xdr.ContractEventType.diagnostic(),
      body: new xdr.ContractEventBody(
        0,
        new xdr.ContractEventV0({
          topics: [xdr.ScVal.scvSymbol('error'), hostErrorScVal(failure)],
          data: xdr.ScVal.scvString(failure.message),
        }),
      ),
    }),
  });
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
