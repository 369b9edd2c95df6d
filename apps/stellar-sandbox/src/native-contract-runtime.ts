/**
 * The real contracts: every call goes to a running nova-contract-host (../contract-host), a native
 * binary that runs the platform's Rust contracts on soroban-sdk's host and keeps their storage
 * (protocol in its README.md). simulate -> POST /simulate (a throwaway copy of the state),
 * invoke -> POST /invoke (kept when it succeeds), with the invoking account as the transaction's
 * source, the only address whose require_auth passes, and the closing ledger's sequence and time.
 *
 * The host's answers become what soroban-env-host reports on a real network:
 *   ok                    -> the return value and the contract's events
 *   contract error n      -> Error(Contract, #n)
 *   auth failure          -> Error(Auth, <code>) with the host's message (e.g. the address that did not sign)
 *   other host failure    -> Error(<type>, <code>) as the host printed it
 *   request refused (400) -> Error(Value, InvalidInput) (calls are checked against the interface first,
 *                            so only a table out of step with the Rust crates gets here)
 *   no answer / 5xx       -> Error(Context, InternalError): the call fails, the ledger goes on
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import { xdr } from '@stellar/stellar-sdk';
import {
  checkContractCall,
  HOST_ERROR_CODES,
  HOST_ERROR_TYPES,
  type ContractCall,
  type ContractFailure,
  type ContractOutcome,
  type ContractRuntime,
  type EmittedContractEvent,
  type HostErrorCode,
  type HostErrorType,
} from './contracts-interface';
import type { ContractDeployment } from './ledger-state';

export interface NativeContractRuntimeOptions {
  /** Base URL of the host, e.g. http://127.0.0.1:4100 */
  url: string;
  /** Read live: the contracts are deployed (genesis) after construction. */
  deployments: readonly ContractDeployment[];
  /** The account that deployed the contracts (the network's root), for the hint when the host serves other ids. */
  deployer: string;
  networkPassphrase: string;
  /** A call the host does not answer within this fails (default 30 s). */
  requestTimeoutMs?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

/** The host could not be reached or answered something that is not its protocol. */
export class ContractHostUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractHostUnavailableError';
  }
}

interface HostAnswer {
  status: number;
  body: unknown;
}

interface HostEvent {
  contractId?: string | null;
  topics: string[];
  data: string;
}

export class NativeContractRuntime implements ContractRuntime {
  readonly mode = 'native';
  private readonly base: URL;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  private readonly timeoutMs: number;

  constructor(private readonly options: NativeContractRuntimeOptions) {
    this.base = new URL(options.url);
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  get deployments(): readonly ContractDeployment[] {
    return this.options.deployments;
  }

  get url(): string {
    return this.base.origin;
  }

  /** The host answers and serves every deployed contract at the id the sandbox deployed it at. */
  async ready(): Promise<void> {
    let health: HostAnswer;
    try {
      health = await this.send('GET', '/health');
    } catch (error) {
      throw new ContractHostUnavailableError(
        `cannot reach the contract host at ${this.url} (is nova-contract-host running there?): ${(error as Error).message}`,
      );
    }
    if (health.status !== 200) {
      throw new ContractHostUnavailableError(
        `the contract host at ${this.url} answered GET /health with ${health.status}: ${JSON.stringify(health.body)}`,
      );
    }
    const served = await this.send('GET', '/contracts');
    const ids = (typeof served.body === 'object' && served.body !== null ? served.body : {}) as Record<string, unknown>;
    for (const deployment of this.deployments) {
      if (ids[deployment.name] === deployment.contractId) continue;
      throw new Error(
        `the contract host at ${this.url} serves ${deployment.name} at ${String(ids[deployment.name])}, ` +
          `but this sandbox deployed it at ${deployment.contractId}: start nova-contract-host with ` +
          `--deployer ${this.options.deployer} --network-passphrase "${this.options.networkPassphrase}" ` +
          `(and a state file made with them)`,
      );
    }
  }

  simulate(call: ContractCall): Promise<ContractOutcome> {
    return this.run('/simulate', call);
  }

  invoke(call: ContractCall): Promise<ContractOutcome> {
    return this.run('/invoke', call);
  }

  close(): Promise<void> {
    this.agent.destroy();
    return Promise.resolve();
  }

  private async run(path: '/simulate' | '/invoke', call: ContractCall): Promise<ContractOutcome> {
    const checked = checkContractCall(this.deployments, call);
    if (!checked.ok) return checked;
    const label = `${checked.deployment.name}.${call.functionName}`;
    let answer: HostAnswer;
    try {
      answer = await this.send('POST', path, {
        contract: call.contractId,
        function: call.functionName,
        args: call.args.map((value) => value.toXDR('base64')),
        source: call.invoker,
        ledgerTimestamp: call.closeTime,
        ledgerSequence: call.ledgerSequence,
      });
    } catch (error) {
      const message = `the contract host at ${this.url} did not answer ${path} for ${label}: ${(error as Error).message}`;
      // An unanswered /invoke may still have run: the transaction fails here, the host may keep its effects.
      this.options.log?.(path === '/invoke' ? 'error' : 'warn', 'contract host call failed', {
        path,
        call: label,
        error: (error as Error).message,
      });
      return failed('Context', 'InternalError', message);
    }
    return outcomeOf(answer, call, label);
  }

  private send(method: 'GET' | 'POST', path: string, body?: unknown): Promise<HostAnswer> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    return new Promise((resolve, reject) => {
      const req = request(
        new URL(path, this.base),
        {
          method,
          agent: this.agent,
          headers: payload
            ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) }
            : { Accept: 'application/json' },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // Not the host's JSON: kept as text for the error message.
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (error) =>
        reject(new ContractHostUnavailableError(`${method} ${path}: ${(error as Error).message}`)),
      );
      req.end(payload);
    });
  }
}

/** Maps an answer of /invoke or /simulate (contract-host/README.md, "HTTP protocol") to the runtime's outcome. */
export function outcomeOf(answer: HostAnswer, call: Pick<ContractCall, 'contractId'>, label: string): ContractOutcome {
  const body = (typeof answer.body === 'object' && answer.body !== null ? answer.body : {}) as {
    ok?: unknown;
    result?: unknown;
    events?: unknown;
    error?: { kind?: unknown; code?: unknown; message?: unknown };
  };
  if (answer.status === 200 && body.ok === true && typeof body.result === 'string') {
    try {
      return {
        ok: true,
        returnValue: xdr.ScVal.fromXDR(body.result, 'base64'),
        events: hostEvents(body.events, call.contractId),
      };
    } catch (error) {
      return failed('Context', 'InternalError', `${label}: undecodable answer: ${(error as Error).message}`);
    }
  }
  const error = body.error ?? {};
  const message = typeof error.message === 'string' ? error.message : '';
  if (answer.status === 200 && error.kind === 'contract' && typeof error.code === 'number') {
    return failed('Contract', error.code, `${label} failed with the contract's error #${error.code}`);
  }
  if (answer.status === 200 && (error.kind === 'auth' || error.kind === 'host')) {
    const parsed = parseHostError(message);
    const type = parsed?.type ?? (error.kind === 'auth' ? 'Auth' : 'Context');
    const code = parsed?.code ?? (error.kind === 'auth' ? 'InvalidAction' : 'InternalError');
    return failed(type, code, parsed?.detail || message || `${label} failed`);
  }
  if (answer.status === 400) {
    return failed('Value', 'InvalidInput', `${label}: the contract host refused the call: ${message}`);
  }
  return failed(
    'Context',
    'InternalError',
    `${label}: the contract host answered ${answer.status}: ${message || JSON.stringify(answer.body)}`,
  );
}

/**
 * `Unauthorized function call for address [G...] (Error(Auth, InvalidAction))` -> Auth,
 * InvalidAction and the text before; `Error(Budget, ExceededLimit)` alone works too.
 */
export function parseHostError(
  message: string,
): { type: HostErrorType; code: HostErrorCode | number; detail: string } | undefined {
  const match = /\(?Error\((\w+), (?:#(\d+)|(\w+))\)\)?\s*$/.exec(message);
  if (!match) return undefined;
  const [whole, typeName, number, codeName] = match;
  if (!HOST_ERROR_TYPES.includes(typeName as HostErrorType)) return undefined;
  const code =
    number !== undefined
      ? Number(number)
      : HOST_ERROR_CODES.includes(codeName as HostErrorCode)
        ? (codeName as HostErrorCode)
        : 'InternalError';
  return { type: typeName as HostErrorType, code, detail: message.slice(0, message.length - whole.length).trim() };
}

function hostEvents(raw: unknown, fallbackContractId: string): EmittedContractEvent[] {
  if (!Array.isArray(raw)) return [];
  return (raw as HostEvent[]).map((event) => ({
    contractId: event.contractId ?? fallbackContractId,
    topics: event.topics.map((topic) => xdr.ScVal.fromXDR(topic, 'base64')),
    data: xdr.ScVal.fromXDR(event.data, 'base64'),
  }));
}

function failed(type: HostErrorType, code: HostErrorCode | number, message: string): ContractOutcome {
  const failure: ContractFailure = { type, code, message };
  return { ok: false, failure };
}
