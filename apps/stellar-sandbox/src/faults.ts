/**
 * Fault injection: the failure modes a payout gateway must survive on a real network
 * (timeouts after inclusion, throttling, slow or lost inclusion, a node that hangs).
 * A fault fires `count` times or, without a count, until cleared; it may be narrowed to
 * submissions whose text memo or source account matches.
 */

export const FAULT_KINDS = [
  'respond504ButApply',
  'rateLimit',
  'delayInclusion',
  'drop',
  'tryAgainLater',
  'stopResponding',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  kind: FaultKind;
  /** Number of times the fault fires; absent (or "untilCleared") = until cleared. */
  count?: number | 'untilCleared';
  /** Only submissions whose text memo equals this. */
  memo?: string;
  /** Only submissions whose tx source, fee-bump source or an operation source is this account. */
  sourceAccount?: string;
  /** delayInclusion: how many extra ledgers to wait (default 1). */
  ledgers?: number;
  /** rateLimit: the Retry-After value in seconds (default 1). */
  retryAfterSeconds?: number;
}

export interface ActiveFault {
  id: number;
  kind: FaultKind;
  remaining: number | 'untilCleared';
  memo?: string;
  sourceAccount?: string;
  ledgers?: number;
  retryAfterSeconds?: number;
  fired: number;
}

/** What a submission exposes to targeted faults. */
export interface FaultTarget {
  memoText?: string;
  accounts: readonly string[];
}

export function parseFaultSpecs(body: unknown): FaultSpec[] {
  const list: unknown[] = Array.isArray(body)
    ? body
    : isRecord(body) && Array.isArray(body.faults)
      ? (body.faults as unknown[])
      : [body];
  return list.map((item, index) => parseFaultSpec(item, list.length > 1 ? `faults[${index}]` : 'fault'));
}

function parseFaultSpec(item: unknown, where: string): FaultSpec {
  if (!isRecord(item)) throw new Error(`${where} must be an object`);
  const kind = item.kind;
  if (typeof kind !== 'string' || !(FAULT_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`${where}.kind must be one of ${FAULT_KINDS.join(', ')}`);
  }
  const spec: FaultSpec = { kind: kind as FaultKind };
  const known = new Set(['kind', 'count', 'memo', 'sourceAccount', 'ledgers', 'retryAfterSeconds']);
  for (const key of Object.keys(item)) {
    if (!known.has(key)) throw new Error(`${where}.${key} is not a fault field`);
  }
  if (item.count !== undefined && item.count !== null && item.count !== 'untilCleared') {
    if (!isPositiveInteger(item.count)) throw new Error(`${where}.count must be a positive integer or "untilCleared"`);
    spec.count = item.count;
  }
  if (item.memo !== undefined) {
    if (typeof item.memo !== 'string') throw new Error(`${where}.memo must be a string`);
    spec.memo = item.memo;
  }
  if (item.sourceAccount !== undefined) {
    if (typeof item.sourceAccount !== 'string' || !/^G[A-Z2-7]{55}$/.test(item.sourceAccount)) {
      throw new Error(`${where}.sourceAccount must be a G... account id`);
    }
    spec.sourceAccount = item.sourceAccount;
  }
  if (item.ledgers !== undefined) {
    if (!isPositiveInteger(item.ledgers)) throw new Error(`${where}.ledgers must be a positive integer`);
    spec.ledgers = item.ledgers;
  }
  if (item.retryAfterSeconds !== undefined) {
    if (!isPositiveInteger(item.retryAfterSeconds))
      throw new Error(`${where}.retryAfterSeconds must be a positive integer`);
    spec.retryAfterSeconds = item.retryAfterSeconds;
  }
  return spec;
}

export class FaultRegistry {
  private faults: ActiveFault[] = [];
  private nextId = 1;
  private readonly clearedListeners: Array<() => void> = [];

  add(spec: FaultSpec): ActiveFault {
    const fault: ActiveFault = {
      id: this.nextId++,
      kind: spec.kind,
      remaining: typeof spec.count === 'number' ? spec.count : 'untilCleared',
      fired: 0,
    };
    if (spec.memo !== undefined) fault.memo = spec.memo;
    if (spec.sourceAccount !== undefined) fault.sourceAccount = spec.sourceAccount;
    if (spec.kind === 'delayInclusion') fault.ledgers = spec.ledgers ?? 1;
    if (spec.kind === 'rateLimit') fault.retryAfterSeconds = spec.retryAfterSeconds ?? 1;
    this.faults.push(fault);
    return { ...fault };
  }

  list(): ActiveFault[] {
    return this.faults.map((fault) => ({ ...fault }));
  }

  /** Removes one fault (by id) or all; returns how many were removed. */
  clear(id?: number): number {
    const before = this.faults.length;
    this.faults = id === undefined ? [] : this.faults.filter((fault) => fault.id !== id);
    const removed = before - this.faults.length;
    if (removed > 0) for (const listener of this.clearedListeners) listener();
    return removed;
  }

  onCleared(listener: () => void): void {
    this.clearedListeners.push(listener);
  }

  /** Any request, before it is understood: only untargeted faults apply. */
  takeForRequest(kind: FaultKind): ActiveFault | undefined {
    return this.take(kind, (fault) => !isTargeted(fault));
  }

  /**
   * A decoded submission. `targetedOnly` skips untargeted faults that were already
   * checked for the request as a whole (rateLimit, stopResponding).
   */
  takeForSubmission(kind: FaultKind, target: FaultTarget, targetedOnly = false): ActiveFault | undefined {
    return this.take(kind, (fault) => {
      if (!isTargeted(fault)) return !targetedOnly;
      if (fault.memo !== undefined && fault.memo !== target.memoText) return false;
      if (fault.sourceAccount !== undefined && !target.accounts.includes(fault.sourceAccount)) return false;
      return true;
    });
  }

  private take(kind: FaultKind, matches: (fault: ActiveFault) => boolean): ActiveFault | undefined {
    const fault = this.faults.find((candidate) => candidate.kind === kind && matches(candidate));
    if (!fault) return undefined;
    fault.fired += 1;
    if (fault.remaining !== 'untilCleared') {
      fault.remaining -= 1;
      if (fault.remaining <= 0) this.faults = this.faults.filter((candidate) => candidate !== fault);
    }
    return { ...fault };
  }
}

function isTargeted(fault: ActiveFault): boolean {
  return fault.memo !== undefined || fault.sourceAccount !== undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}
