import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { PrismaClient } from '@nova/db';
import type { ApiConfig } from '@nova/config';
import { InjectConfig } from '../config/config.module';

/** How often an API deletes expired keys, and how many rows one statement deletes. */
const SWEEP_EVERY_MS = 10 * 60_000;
const SWEEP_BATCH = 1000;

export type IdempotencyKeyState = 'in_flight' | 'completed' | 'released';

/** A key's row as the claim statement returns it. */
export interface IdempotencyKeyRecord {
  /** True when this request now holds the key and runs (a fresh key, an expired one, or a take-over). */
  claimed: boolean;
  claimId: string;
  attempts: number;
  state: IdempotencyKeyState;
  requestHash: string;
  requestMethod: string;
  requestPath: string;
  responseStatus: number | null;
  responseBody: unknown;
  responseHeaders: Record<string, string> | null;
}

export interface RequestIdentity {
  merchantId: string;
  key: string;
  method: string;
  path: string;
  hash: string;
}

export interface StoredAnswer {
  status: number;
  /** undefined: the answer had no body. */
  body: unknown;
  headers: Record<string, string>;
}

/**
 * The idempotency_keys table: every statement the interceptor runs, in plain SQL (the hot
 * path: one statement to claim or look up, one to store the answer), and the sweep of
 * expired keys, which every API runs every 10 minutes and at boot.
 */
@Injectable()
export class IdempotencyKeys implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(IdempotencyKeys.name);
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;

  constructor(
    @Inject(PrismaClient) private readonly db: PrismaClient,
    @InjectConfig() private readonly config: ApiConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.sweepTimer = setInterval(() => this.sweepSoon(), SWEEP_EVERY_MS);
    this.sweepTimer.unref();
    this.sweepSoon();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.sweeping;
  }

  /**
   * Claims the key for this request, or returns who holds it. One statement: the insert claims
   * a new key; on conflict it takes the key over only when it expired (a new claim), or when
   * it was left by the same request (same fingerprint) that was released after a 5xx or has
   * held it past the lock timeout (a crashed process: the same claim, one attempt more).
   * Otherwise the row is returned as it stands, unclaimed.
   */
  async claim(request: RequestIdentity): Promise<IdempotencyKeyRecord> {
    const { retentionHours, lockTimeoutSeconds } = this.config.idempotency;
    // In READ COMMITTED a conflict with a row committed after this statement's snapshot was
    // taken leaves the lookup half blind (it sees nothing): the next statement sees it.
    for (let round = 0; round < 3; round += 1) {
      const [row] = await this.db.$queryRaw<IdempotencyKeyRecord[]>`
        WITH claimed AS (
          INSERT INTO idempotency_keys AS k (merchant_id, key, claim_id, request_method, request_path, request_hash,
                                             state, attempts, locked_at, created_at, expires_at)
          VALUES (${request.merchantId}::uuid, ${request.key}, ${randomUUID()}::uuid, ${request.method},
                  ${request.path}, ${request.hash}, 'in_flight', 1, now(), now(),
                  now() + make_interval(hours => ${retentionHours}::int))
          ON CONFLICT (merchant_id, key) DO UPDATE SET
            claim_id = CASE WHEN k.expires_at <= now() THEN EXCLUDED.claim_id ELSE k.claim_id END,
            attempts = CASE WHEN k.expires_at <= now() THEN 1 ELSE k.attempts + 1 END,
            created_at = CASE WHEN k.expires_at <= now() THEN now() ELSE k.created_at END,
            expires_at = CASE WHEN k.expires_at <= now() THEN EXCLUDED.expires_at ELSE k.expires_at END,
            request_method = EXCLUDED.request_method, request_path = EXCLUDED.request_path,
            request_hash = EXCLUDED.request_hash, state = 'in_flight', locked_at = now(),
            response_status = NULL, response_body = NULL, response_headers = NULL
          WHERE k.expires_at <= now()
             OR (k.request_hash = EXCLUDED.request_hash
                 AND (k.state = 'released'
                      OR (k.state = 'in_flight'
                          AND k.locked_at < now() - make_interval(secs => ${lockTimeoutSeconds}::int))))
          RETURNING true AS claimed, k.claim_id::text AS "claimId", k.attempts, k.state,
                    k.request_hash AS "requestHash", k.request_method AS "requestMethod",
                    k.request_path AS "requestPath", k.response_status AS "responseStatus",
                    k.response_body AS "responseBody", k.response_headers AS "responseHeaders"
        )
        SELECT * FROM claimed
        UNION ALL
        SELECT false, claim_id::text, attempts, state, request_hash, request_method, request_path,
               response_status, response_body, response_headers
          FROM idempotency_keys
         WHERE merchant_id = ${request.merchantId}::uuid AND key = ${request.key}
           AND NOT EXISTS (SELECT 1 FROM claimed)`;
      if (row) return row;
    }
    throw new Error(`Idempotency-Key ${request.key} neither claimed nor found`);
  }

  /**
   * Stores the final answer of the run holding the claim. False when that run no longer holds
   * it (another took it over after the lock timeout): its answer is not the key's.
   */
  async complete(request: RequestIdentity, claim: { claimId: string; attempt: number }, answer: StoredAnswer) {
    const body = answer.body === undefined ? null : JSON.stringify(answer.body);
    const updated = await this.db.$executeRaw`
      UPDATE idempotency_keys
         SET state = 'completed', locked_at = NULL, response_status = ${answer.status},
             response_body = ${body}::json, response_headers = ${JSON.stringify(answer.headers)}::jsonb
       WHERE merchant_id = ${request.merchantId}::uuid AND key = ${request.key}
         AND claim_id = ${claim.claimId}::uuid AND attempts = ${claim.attempt} AND state = 'in_flight'`;
    return updated === 1;
  }

  /** Lets the next retry of the same request run again (after a 5xx: nothing final to replay). */
  async release(request: RequestIdentity, claim: { claimId: string; attempt: number }): Promise<void> {
    await this.db.$executeRaw`
      UPDATE idempotency_keys SET state = 'released', locked_at = NULL
       WHERE merchant_id = ${request.merchantId}::uuid AND key = ${request.key}
         AND claim_id = ${claim.claimId}::uuid AND attempts = ${claim.attempt} AND state = 'in_flight'`;
  }

  /** Deletes the keys past their retention (they may then be used again); returns how many. */
  async sweepExpired(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.db.$executeRaw`
        DELETE FROM idempotency_keys
         WHERE (merchant_id, key) IN (
           SELECT merchant_id, key FROM idempotency_keys WHERE expires_at <= now()
            LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED)`;
      total += deleted;
      if (deleted < SWEEP_BATCH) break;
      this.logger.log(`deleted ${total} expired Idempotency-Keys so far`);
    }
    if (total > 0) this.logger.log(`deleted ${total} expired Idempotency-Key(s)`);
    return total;
  }

  private sweepSoon(): void {
    if (this.sweeping) return;
    this.sweeping = this.sweepExpired()
      .catch((error: unknown) =>
        this.logger.warn(`sweeping expired Idempotency-Keys failed: ${(error as Error).message}`),
      )
      .finally(() => (this.sweeping = undefined));
  }
}
