import {
  Account,
  Asset,
  Contract,
  FeeBumpTransaction,
  Horizon,
  Keypair,
  Memo,
  NotFoundError,
  Operation,
  rpc,
  StrKey,
  type Transaction,
  TransactionBuilder,
  xdr,
} from '@stellar/stellar-sdk';
import { fromStroops, toStroops } from '@nova/domain';
import { decisiveResultCodes, horizonResultCodesFromXdr } from '@nova/domain/stellar-result-codes';
import {
  ContractError,
  EventsOutsideRetentionError,
  GatewayInternalError,
  SimulationFailedError,
  StellarUnavailableError,
  SubmissionIndeterminateError,
  TransactionRejectedError,
  translateStellarError,
  type ResultCodes,
} from './errors';

export interface StellarNetwork {
  horizonUrl: string;
  sorobanRpcUrl: string;
  networkPassphrase: string;
  assetCode: string;
  assetIssuer: string;
}

export type TrustlineCheck =
  | { status: 'ok'; balance: bigint; limit: bigint }
  | { status: 'account-missing' }
  | { status: 'trustline-missing' }
  | { status: 'not-authorized' }
  | { status: 'limit-exceeded'; headroom: bigint };

export type TransactionLookup =
  | { found: false }
  | { found: true; successful: true; ledger: number }
  | { found: true; successful: false; ledger: number; resultCodes: ResultCodes };

export interface SignedEnvelope {
  hash: string;
  envelopeXdr: string;
  /** Upper time bound: after a ledger closes past it, the envelope can never land. */
  maxTime: Date;
}

export interface ContractInvocation {
  contractId: string;
  method: string;
  args: xdr.ScVal[];
  source: Keypair;
  timeoutSeconds?: number;
}

/** A contract transaction looked up by hash through Soroban RPC. */
export type ContractTransactionLookup =
  | { found: false; latestLedger: number; latestLedgerCloseTime: Date }
  | { found: true; successful: true; ledger: number }
  | { found: true; successful: false; ledger: number; resultCodes: ResultCodes; contractErrorCode?: number };

export interface ContractEvent {
  id: string;
  ledger: number;
  ledgerClosedAt: Date;
  txHash: string;
  contractId: string;
  topics: xdr.ScVal[];
  value: xdr.ScVal;
}

/** A page of getEvents: the events, the cursor to continue after them, and the RPC's retained range. */
export interface ContractEventsPage {
  events: ContractEvent[];
  cursor?: string;
  latestLedger: number;
  oldestLedger?: number;
}

/** The ledger a getEvents cursor points into (the TOID's upper 32 bits). */
export function ledgerOfEventCursor(cursor: string): number {
  return Number(BigInt(cursor.split('-')[0] ?? '0') >> 32n);
}

/** stellar-rpc's refusal of a start outside its retained ledgers (JSON-RPC -32600). */
const OUTSIDE_RETENTION =
  /startLedger must be (?:within the ledger range|between the oldest ledger): ?(\d+)(?: -| and the latest ledger:) (\d+)/;

/** A payment-like operation as Horizon lists it (payment or create_account), with its transaction's memo. */
export interface ChainPayment {
  /** Horizon's operation id (TOID), also its paging token. */
  operationId: string;
  /** The inner transaction's hash (a fee bump's inner hash: what the journal records). */
  txHash: string;
  /** The operation's index in its transaction (0-based). */
  opIndex: number;
  type: 'payment' | 'create_account' | string;
  from: string;
  to: string;
  /** `native` or `CODE:ISSUER`. */
  asset: string;
  amountStroops: bigint;
  memo?: string;
  closedAt: Date;
}

/** Stellar's limit on operations in one transaction. */
export const MAX_OPERATIONS_PER_TRANSACTION = 100;

const CONTRACT_ERROR = /Error\(Contract, #(\d+)\)/;

/** The fields of Horizon's payment-like records the reconciliation reads (with join=transactions). */
interface HorizonPaymentRecord {
  id: string;
  paging_token: string;
  type: string;
  transaction_hash: string;
  created_at: string;
  source_account: string;
  from?: string;
  to?: string;
  amount?: string;
  asset_type?: string;
  asset_code?: string;
  asset_issuer?: string;
  funder?: string;
  account?: string;
  starting_balance?: string;
  transaction_attr?: { memo?: string; memo_type?: string; inner_transaction?: { hash: string } };
}

function chainPaymentOf(record: HorizonPaymentRecord): ChainPayment {
  const tx = record.transaction_attr;
  const creation = record.type === 'create_account';
  const asset =
    creation || record.asset_type === 'native' ? 'native' : `${record.asset_code ?? ''}:${record.asset_issuer ?? ''}`;
  return {
    operationId: record.id,
    txHash: tx?.inner_transaction?.hash ?? record.transaction_hash,
    // The TOID's low 12 bits are the operation's 1-based order in its transaction.
    opIndex: Number(BigInt(record.id) & 0xfffn) - 1,
    type: record.type,
    from: (creation ? record.funder : record.from) ?? record.source_account,
    to: (creation ? record.account : record.to) ?? '',
    asset,
    amountStroops: toStroops((creation ? record.starting_balance : record.amount) ?? '0'),
    ...(tx?.memo_type === 'text' && tx.memo !== undefined ? { memo: tx.memo } : {}),
    closedAt: new Date(record.created_at),
  };
}

/** Horizon's codes of a failed transaction; for a fee bump, the inner transaction's (what decides). */
function resultCodesOf(resultXdr: string): ResultCodes {
  return decisiveResultCodes(horizonResultCodesFromXdr(resultXdr));
}

/** The contract's numbered error, carried as an ScError topic of a diagnostic event. */
function contractErrorCode(events: xdr.DiagnosticEvent[]): number | undefined {
  for (const diagnostic of events) {
    for (const topic of diagnostic.event().body().v0().topics()) {
      if (topic.switch() === xdr.ScValType.scvError() && topic.error().switch() === xdr.ScErrorType.sceContract()) {
        return topic.error().contractCode();
      }
    }
  }
  return undefined;
}

/** A refused simulation: the contract's numbered error, or a final SimulationFailedError. */
function simulationError(
  simulation: rpc.Api.SimulateTransactionErrorResponse,
  call: { contractId: string; method: string },
): ContractError | SimulationFailedError {
  const match = CONTRACT_ERROR.exec(simulation.error);
  if (match) return new ContractError(`contract error #${match[1]}`, call.contractId, Number(match[1]));
  return new SimulationFailedError(`simulation refused ${call.method}: ${simulation.error}`);
}

/**
 * The platform's one door to Stellar: Horizon and Soroban RPC through @stellar/stellar-sdk.
 * Every SDK error leaves this class translated into a StellarError (errors.ts).
 *
 * Submissions follow the "indeterminate status" rule: a timeout or 504 does not mean the
 * transaction failed. Callers look the hash up and resubmit the same envelope (see
 * journal.ts); nothing here ever resubmits a different envelope on its own.
 */
export class StellarGateway {
  readonly horizon: Horizon.Server;
  readonly rpc: rpc.Server;
  readonly asset: Asset;

  constructor(
    readonly network: StellarNetwork,
    private readonly options: { submitTimeoutMs?: number; readTimeoutMs?: number; pollIntervalMs?: number } = {},
  ) {
    const allowHttp = network.horizonUrl.startsWith('http://') || network.sorobanRpcUrl.startsWith('http://');
    this.horizon = new Horizon.Server(network.horizonUrl, { allowHttp });
    this.rpc = new rpc.Server(network.sorobanRpcUrl, { allowHttp, timeout: options.readTimeoutMs ?? 10_000 });
    // Reads give up after this long (a hung node must not hang an activity); submissions
    // carry their own, longer timeout.
    this.horizon.httpClient.defaults.timeout = options.readTimeoutMs ?? 10_000;
    this.asset = new Asset(network.assetCode, network.assetIssuer);
  }

  /** Can `account` receive `amount` of the platform asset? Answered as a value, not an exception. */
  async checkTrustline(account: string, amount: bigint): Promise<TrustlineCheck> {
    let record: Horizon.AccountResponse;
    try {
      record = await this.horizon.loadAccount(account);
    } catch (error) {
      if (error instanceof NotFoundError) return { status: 'account-missing' };
      throw translateStellarError(error);
    }
    if (account === this.network.assetIssuer) return { status: 'ok', balance: 0n, limit: 0n };
    const line = record.balances.find(
      (b) =>
        (b.asset_type === 'credit_alphanum4' || b.asset_type === 'credit_alphanum12') &&
        b.asset_code === this.network.assetCode &&
        b.asset_issuer === this.network.assetIssuer,
    ) as Horizon.HorizonApi.BalanceLineAsset | undefined;
    if (!line) return { status: 'trustline-missing' };
    if (line.is_authorized === false) return { status: 'not-authorized' };
    const balance = toStroops(line.balance);
    const limit = toStroops(line.limit);
    const headroom = limit - balance;
    if (headroom < amount) return { status: 'limit-exceeded', headroom };
    return { status: 'ok', balance, limit };
  }

  /** The account's current sequence number, from the ledger (never guessed). */
  async sequenceOf(account: string): Promise<bigint> {
    try {
      const record = await this.horizon.loadAccount(account);
      return BigInt(record.sequenceNumber());
    } catch (error) {
      throw translateStellarError(error);
    }
  }

  /** The account's sequence number and the ledger that last changed the account (for reads across load-balanced nodes). */
  async accountSequence(account: string): Promise<{ sequence: bigint; lastModifiedLedger: number }> {
    try {
      const record = await this.horizon.loadAccount(account);
      return { sequence: BigInt(record.sequenceNumber()), lastModifiedLedger: record.last_modified_ledger };
    } catch (error) {
      throw translateStellarError(error);
    }
  }

  async latestLedger(): Promise<{ sequence: number; closedAt: Date }> {
    try {
      const page = await this.horizon.ledgers().order('desc').limit(1).call();
      const ledger = page.records[0];
      if (!ledger) throw new StellarUnavailableError('Horizon returned no ledger');
      return { sequence: ledger.sequence, closedAt: new Date(ledger.closed_at) };
    } catch (error) {
      throw translateStellarError(error);
    }
  }

  /** The fee per operation to offer: the network's recent p90, never below the base fee. */
  async recommendedFee(): Promise<number> {
    try {
      const stats = await this.horizon.feeStats();
      return Math.max(Number(stats.last_ledger_base_fee), Number(stats.fee_charged.p90));
    } catch (error) {
      throw translateStellarError(error);
    }
  }

  /**
   * Builds and signs a payment of the platform asset from `from` (the distribution account),
   * sourced from a channel account (which pays the fee and provides the sequence number).
   */
  buildPayment(input: {
    channel: Keypair;
    channelSequence: bigint;
    from: Keypair;
    destination: string;
    amount: bigint;
    memo: string;
    feePerOperation: number;
    maxTime: Date;
  }): SignedEnvelope {
    return this.buildPayments({ ...input, payments: [{ destination: input.destination, amount: input.amount }] });
  }

  /**
   * One transaction paying several wallets (one payment operation each, in order; at most
   * 100): it lands or fails as a whole, and operation i's result code is payment i's.
   */
  buildPayments(input: {
    channel: Keypair;
    channelSequence: bigint;
    from: Keypair;
    payments: readonly { destination: string; amount: bigint }[];
    memo: string;
    feePerOperation: number;
    maxTime: Date;
  }): SignedEnvelope {
    if (input.payments.length < 1 || input.payments.length > MAX_OPERATIONS_PER_TRANSACTION) {
      throw new GatewayInternalError(
        `a transaction carries 1 to ${MAX_OPERATIONS_PER_TRANSACTION} payments, not ${input.payments.length}`,
      );
    }
    const source = new Account(input.channel.publicKey(), input.channelSequence.toString());
    const builder = new TransactionBuilder(source, {
      fee: String(input.feePerOperation),
      networkPassphrase: this.network.networkPassphrase,
      memo: Memo.text(input.memo),
      timebounds: { minTime: 0, maxTime: Math.floor(input.maxTime.getTime() / 1000) },
    });
    for (const payment of input.payments) {
      builder.addOperation(
        Operation.payment({
          source: input.from.publicKey(),
          destination: payment.destination,
          asset: this.asset,
          amount: fromStroops(payment.amount),
        }),
      );
    }
    const transaction = builder.build();
    transaction.sign(input.channel, input.from);
    return {
      hash: transaction.hash().toString('hex'),
      envelopeXdr: transaction.toEnvelope().toXDR('base64'),
      maxTime: new Date(Math.floor(input.maxTime.getTime() / 1000) * 1000),
    };
  }

  /** Wraps a signed envelope in a fee bump paid by `feeSource`; the inner hash stays the lookup key. */
  feeBump(envelopeXdr: string, feeSource: Keypair, feePerOperation: number): string {
    const inner = TransactionBuilder.fromXDR(envelopeXdr, this.network.networkPassphrase);
    if (inner instanceof FeeBumpTransaction) throw new Error('already a fee bump');
    const bump = TransactionBuilder.buildFeeBumpTransaction(
      feeSource,
      String(feePerOperation),
      inner,
      this.network.networkPassphrase,
    );
    bump.sign(feeSource);
    return bump.toEnvelope().toXDR('base64');
  }

  /**
   * Submits a signed envelope and waits for its ledger. Throws SubmissionIndeterminateError
   * when the outcome is unknown; TransactionRejectedError with Horizon's result codes.
   */
  async submit(envelopeXdr: string, hash: string): Promise<{ hash: string; ledger: number }> {
    const transaction = TransactionBuilder.fromXDR(envelopeXdr, this.network.networkPassphrase) as
      Transaction | FeeBumpTransaction;
    const timeoutMs = this.options.submitTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const response = await Promise.race([
        this.horizon.submitTransaction(transaction, { skipMemoRequiredCheck: true }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
            timeoutMs,
          );
        }),
      ]);
      return { hash, ledger: response.ledger };
    } catch (error) {
      throw translateStellarError(error, hash);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Finds a transaction by hash (a fee-bumped one by its inner hash too, as Horizon does). */
  async lookup(hash: string): Promise<TransactionLookup> {
    try {
      const record = await this.horizon.transactions().transaction(hash).call();
      if (record.successful) return { found: true, successful: true, ledger: record.ledger_attr };
      return {
        found: true,
        successful: false,
        ledger: record.ledger_attr,
        resultCodes: resultCodesOf(record.result_xdr),
      };
    } catch (error) {
      if (error instanceof NotFoundError) return { found: false };
      throw translateStellarError(error);
    }
  }

  /** Payments received by `account` (newest first), with their transaction memos. */
  async paymentsTo(account: string, limit = 50): Promise<{ hash: string; amount: string; from: string }[]> {
    try {
      const page = await this.horizon.payments().forAccount(account).order('desc').limit(limit).call();
      return page.records
        .filter((r): r is Horizon.ServerApi.PaymentOperationRecord => r.type === 'payment')
        .filter((r) => r.to === account)
        .map((r) => ({ hash: r.transaction_hash, amount: r.amount, from: r.from }));
    } catch (error) {
      throw translateStellarError(error);
    }
  }

  /**
   * One page of the payments touching `account` (Horizon lists an account's payments where it is
   * the source, sender or receiver), each with its transaction joined for the memo and the inner
   * hash. Successful transactions only, as Horizon's default. `next` is the cursor of the page
   * after; undefined once a page came back short (nothing more that way).
   */
  async paymentsPage(
    account: string,
    page: { cursor?: string; order: 'asc' | 'desc'; limit: number },
  ): Promise<{ payments: ChainPayment[]; next?: string }> {
    try {
      let call = this.horizon.payments().forAccount(account).join('transactions').order(page.order).limit(page.limit);
      if (page.cursor) call = call.cursor(page.cursor);
      const result = await call.call();
      const records = result.records as unknown as HorizonPaymentRecord[];
      const last = records.at(-1);
      return {
        payments: records.map(chainPaymentOf),
        ...(records.length === page.limit && last ? { next: last.paging_token } : {}),
      };
    } catch (error) {
      throw translateStellarError(error);
    }
  }

  /** A transaction's payments, by its hash (a fee bump's inner hash finds it too); undefined when not on chain. */
  async transactionPayments(hash: string): Promise<ChainPayment[] | undefined> {
    try {
      const result = await this.horizon.payments().forTransaction(hash).join('transactions').limit(200).call();
      return (result.records as unknown as HorizonPaymentRecord[]).map(chainPaymentOf);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw translateStellarError(error);
    }
  }

  /**
   * Builds a Soroban contract call ready to send: simulate -> assemble (footprint, resources,
   * fee) -> sign. Nothing is sent: the transaction journal persists it first. A refused
   * simulation is the contract's numbered error (ContractError) or a final SimulationFailedError.
   */
  async prepareContractCall(invocation: ContractInvocation): Promise<SignedEnvelope> {
    if (!StrKey.isValidContract(invocation.contractId))
      throw new Error(`not a contract address: ${invocation.contractId}`);
    // The upper time bound is what lets a lost call be declared lost: every call has one.
    const timeoutSeconds = invocation.timeoutSeconds ?? 30;
    if (!(timeoutSeconds > 0))
      throw new RangeError('contract calls need a positive timeoutSeconds (an upper time bound)');
    let simulation: rpc.Api.SimulateTransactionResponse;
    let built: Transaction;
    try {
      const account = await this.rpcAccount(invocation.source.publicKey());
      built = new TransactionBuilder(account, { fee: '100', networkPassphrase: this.network.networkPassphrase })
        .addOperation(new Contract(invocation.contractId).call(invocation.method, ...invocation.args))
        .setTimeout(timeoutSeconds)
        .build();
      simulation = await this.rpc.simulateTransaction(built);
    } catch (error) {
      throw translateStellarError(error);
    }
    if (rpc.Api.isSimulationError(simulation)) throw simulationError(simulation, invocation);
    const prepared = rpc.assembleTransaction(built, simulation).build();
    prepared.sign(invocation.source);
    return {
      hash: prepared.hash().toString('hex'),
      envelopeXdr: prepared.toEnvelope().toXDR('base64'),
      maxTime: new Date(Number(prepared.timeBounds?.maxTime ?? 0) * 1000),
    };
  }

  /**
   * Prepares and sends a contract call in one go, for tools and gateway tests. The platform's
   * activities never use it: their calls go through the transaction journal, which persists
   * each envelope before it is sent.
   */
  async invokeContract(
    invocation: ContractInvocation,
  ): Promise<{ hash: string; ledger: number; returnValue?: xdr.ScVal }> {
    const envelope = await this.prepareContractCall(invocation);
    return await this.submitContractTransaction(envelope, invocation.contractId);
  }

  /**
   * Sends a signed contract transaction (the first time, or again after an indeterminate
   * outcome: the same envelope is never applied twice, the node answers DUPLICATE or
   * the transaction fails on its used sequence number) and polls it by hash until it is
   * in a ledger or a ledger closed past its upper time bound.
   */
  async submitContractTransaction(
    envelope: SignedEnvelope,
    contractId: string,
  ): Promise<{ hash: string; ledger: number; returnValue?: xdr.ScVal }> {
    const hash = envelope.hash;
    const maxTime = Math.floor(envelope.maxTime.getTime() / 1000);
    const transaction = TransactionBuilder.fromXDR(envelope.envelopeXdr, this.network.networkPassphrase) as
      Transaction | FeeBumpTransaction;
    let sent: rpc.Api.SendTransactionResponse;
    try {
      sent = await this.rpc.sendTransaction(transaction);
    } catch (error) {
      throw translateStellarError(error, hash);
    }
    if (sent.status === 'TRY_AGAIN_LATER') throw new StellarUnavailableError('Soroban RPC: TRY_AGAIN_LATER');
    if (sent.status === 'ERROR') {
      const codes = sent.errorResult
        ? resultCodesOf(sent.errorResult.toXDR('base64'))
        : { transaction: 'tx_failed', operations: [] };
      throw new TransactionRejectedError(`contract call refused: ${codes.transaction}`, codes);
    }
    return await this.pollContractTransaction(hash, maxTime, contractId);
  }

  /** Finds a contract transaction by hash; when it is not found, says how far the ledger has got. */
  async contractTransaction(hash: string): Promise<ContractTransactionLookup> {
    let status: rpc.Api.GetTransactionResponse;
    try {
      status = await this.rpc.getTransaction(hash);
    } catch (error) {
      throw translateStellarError(error);
    }
    if (status.status === rpc.Api.GetTransactionStatus.SUCCESS) {
      return { found: true, successful: true, ledger: status.ledger };
    }
    if (status.status === rpc.Api.GetTransactionStatus.FAILED) {
      const code = contractErrorCode(status.diagnosticEventsXdr ?? []);
      return {
        found: true,
        successful: false,
        ledger: status.ledger,
        resultCodes: resultCodesOf(status.resultXdr.toXDR('base64')),
        ...(code !== undefined ? { contractErrorCode: code } : {}),
      };
    }
    return {
      found: false,
      latestLedger: status.latestLedger,
      latestLedgerCloseTime: new Date(Number(status.latestLedgerCloseTime) * 1000),
    };
  }

  /**
   * Calls a contract function in simulation only (a getter such as `get` or `admin`): its
   * return value, or ContractError with the contract's numbered error. Nothing is sent.
   * @param source an existing account to simulate from (reads need no authorization)
   */
  async readContract(call: {
    contractId: string;
    method: string;
    args: xdr.ScVal[];
    source: string;
  }): Promise<xdr.ScVal> {
    let simulation: rpc.Api.SimulateTransactionResponse;
    try {
      const account = await this.rpcAccount(call.source);
      const built = new TransactionBuilder(account, { fee: '100', networkPassphrase: this.network.networkPassphrase })
        .addOperation(new Contract(call.contractId).call(call.method, ...call.args))
        .setTimeout(30)
        .build();
      simulation = await this.rpc.simulateTransaction(built);
    } catch (error) {
      throw translateStellarError(error);
    }
    if (rpc.Api.isSimulationError(simulation)) throw simulationError(simulation, call);
    return simulation.result?.retval ?? xdr.ScVal.scvVoid();
  }

  /**
   * An account and its sequence number through Soroban RPC. Not `rpc.getAccount`: it turns every
   * failure (a 429, a 503, a dropped connection) into "Account not found", which would make a
   * passing outage look final. Errors go through the translation; only an empty answer means
   * the account does not exist.
   */
  private async rpcAccount(address: string): Promise<Account> {
    const key = xdr.LedgerKey.account(
      new xdr.LedgerKeyAccount({ accountId: Keypair.fromPublicKey(address).xdrPublicKey() }),
    );
    const { entries } = await this.rpc.getLedgerEntries(key);
    const entry = entries[0];
    if (!entry) throw new GatewayInternalError(`account ${address} does not exist`);
    return new Account(address, entry.val.account().seqNum().toString());
  }

  private async pollContractTransaction(
    hash: string,
    maxTime: number,
    contractId: string,
  ): Promise<{ hash: string; ledger: number; returnValue?: xdr.ScVal }> {
    const interval = this.options.pollIntervalMs ?? 500;
    for (;;) {
      let status: rpc.Api.GetTransactionResponse;
      try {
        status = await this.rpc.getTransaction(hash);
      } catch (error) {
        throw translateStellarError(error, hash);
      }
      if (status.status === rpc.Api.GetTransactionStatus.SUCCESS) {
        return { hash, ledger: status.ledger, returnValue: status.returnValue };
      }
      if (status.status === rpc.Api.GetTransactionStatus.FAILED) {
        const codes = resultCodesOf(status.resultXdr.toXDR('base64'));
        const code = contractErrorCode(status.diagnosticEventsXdr ?? []);
        if (code !== undefined) throw new ContractError(`contract error #${code}`, contractId, code);
        throw new TransactionRejectedError(`contract call failed: ${codes.transaction}`, codes, status.ledger);
      }
      if (status.latestLedgerCloseTime && Number(status.latestLedgerCloseTime) > maxTime) {
        throw new SubmissionIndeterminateError(`contract call ${hash} not found after its upper time bound`, hash);
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }

  /** The ledgers Soroban RPC serves now (its retention window, oldest to latest). */
  async rpcLedgerRange(): Promise<{ oldestLedger: number; latestLedger: number }> {
    try {
      const health = await this.rpc.getHealth();
      return { oldestLedger: health.oldestLedger, latestLedger: health.latestLedger };
    } catch (error) {
      throw translateStellarError(error);
    }
  }

  /**
   * Contract events from `cursor` (exclusive) or `startLedger`, for the given contracts. A start
   * the RPC no longer retains is EventsOutsideRetentionError, with the range it does retain.
   */
  async contractEvents(query: {
    contractIds: string[];
    cursor?: string;
    startLedger?: number;
    limit?: number;
  }): Promise<ContractEventsPage> {
    const requestedLedger = query.cursor ? ledgerOfEventCursor(query.cursor) : (query.startLedger ?? 1);
    try {
      const filters = [{ type: 'contract' as const, contractIds: query.contractIds }];
      const response = query.cursor
        ? await this.rpc.getEvents({ filters, cursor: query.cursor, limit: query.limit ?? 100 })
        : await this.rpc.getEvents({ filters, startLedger: query.startLedger ?? 1, limit: query.limit ?? 100 });
      const oldest = (response as { oldestLedger?: number }).oldestLedger;
      return {
        cursor: response.cursor,
        latestLedger: response.latestLedger,
        ...(oldest !== undefined ? { oldestLedger: oldest } : {}),
        events: response.events.map((e) => ({
          id: e.id,
          ledger: e.ledger,
          ledgerClosedAt: new Date(e.ledgerClosedAt),
          txHash: e.txHash,
          contractId: e.contractId?.contractId() ?? '',
          topics: e.topic,
          value: e.value,
        })),
      };
    } catch (error) {
      const message = (error as { message?: unknown } | null)?.message;
      const match = typeof message === 'string' ? OUTSIDE_RETENTION.exec(message) : null;
      if (match) {
        throw new EventsOutsideRetentionError(
          `Soroban RPC retains ledgers ${match[1]} to ${match[2]}, not ${requestedLedger}`,
          requestedLedger,
          Number(match[1]),
          Number(match[2]),
        );
      }
      throw translateStellarError(error);
    }
  }
}
