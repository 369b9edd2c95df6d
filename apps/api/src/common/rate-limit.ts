import { createHash } from 'node:crypto';
import { applyDecorators, Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiTooManyRequestsResponse } from '@nestjs/swagger';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  normalizeIp,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request } from 'express';
import type { ApiConfig } from '@nova/config';
import { PrismaClient } from '@nova/db';
import { API_KEY_HEADER, isAdminKey } from '../auth/admin.guard';
import { parseApiKey, secretMatches } from '../auth/api-keys';
import { InjectConfig } from '../config/config.module';
import { ErrorResponse } from './error-response';

/**
 * Per-API-key rate limiting: each caller gets RATE_LIMIT_PER_MINUTE requests in any rolling
 * minute, across all routes; beyond that, 429 with Retry-After (seconds until the oldest
 * counted request leaves the window). Rejected requests are not counted, so a client that
 * honours Retry-After gets through.
 *
 * Callers are told apart by the key they present, once it is proven genuine: a merchant key by
 * its prefix, the admin key by its hash. Anything else (no key, a malformed, unknown, revoked
 * or forged key) counts against the client IP, so nobody can spend a merchant's budget by
 * quoting its prefix, nor escape the limit by inventing keys.
 *
 * Counters live in this process's memory: with N API replicas a key gets up to N times the
 * limit. A shared store (e.g. Redis) would make it exact.
 */

const WINDOW_MS = 60_000;

export interface RateLimitConfig {
  /** Requests per rolling minute for one caller (RATE_LIMIT_PER_MINUTE, validated by config/). */
  perMinute: number;
}

export function throttlerOptions(limit: RateLimitConfig, skipIf: (context: ExecutionContext) => boolean) {
  return {
    throttlers: [
      // blockDuration 0: a rolling window rather than a minute-long ban once the limit is hit.
      { name: 'default', ttl: WINDOW_MS, limit: limit.perMinute, blockDuration: 0 },
    ],
    skipIf,
    errorMessage: (
      _context: ExecutionContext,
      detail: { limit: number; timeToBlockExpire: number; tracker: string },
    ) => {
      const per = detail.tracker.startsWith('ip:') ? 'client address without a valid API key' : 'API key';
      return `Rate limit exceeded: at most ${detail.limit} requests per minute per ${per}; retry after ${detail.timeToBlockExpire} s`;
    },
  } satisfies ThrottlerModuleOptions;
}

/** Who a request counts against: see the comment at the top of this file. */
@Injectable()
export class RateLimitTracker {
  constructor(
    @Inject(PrismaClient) private readonly db: PrismaClient,
    @InjectConfig() private readonly config: ApiConfig,
  ) {}

  async trackerFor(request: Request): Promise<string> {
    const presented = request.headers[API_KEY_HEADER];
    if (typeof presented === 'string' && presented !== '') {
      if (isAdminKey(presented, this.config.adminApiKey)) {
        return `admin:${createHash('sha256').update(presented).digest('hex')}`;
      }
      const parsed = parseApiKey(presented);
      if (parsed && (await this.isLiveKey(parsed.prefix, parsed.secret))) return `key:${parsed.prefix}`;
    }
    return `ip:${normalizeIp(request.ip ?? request.socket.remoteAddress ?? 'unknown')}`;
  }

  private async isLiveKey(prefix: string, secret: string): Promise<boolean> {
    try {
      const row = await this.db.apiKey.findUnique({
        where: { prefix },
        select: { secretHash: true, revokedAt: true },
      });
      return row !== null && row.revokedAt === null && secretMatches(secret, row.secretHash);
    } catch {
      // The database is down: the route's own guard will answer; meanwhile count by IP.
      return false;
    }
  }
}

/** The throttler guard, keyed by caller alone (one budget across all routes, not one per route). */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly tracker: RateLimitTracker,
  ) {
    super(options, storage, reflector);
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    return await this.tracker.trackerFor(request as unknown as Request);
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }
}

/** Documents the 429 on a controller or route (the guard itself is global). */
export function RateLimited(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiTooManyRequestsResponse({
      type: ErrorResponse,
      description: 'Rate limit of the API key exceeded (RATE_LIMIT_PER_MINUTE per rolling minute)',
      headers: {
        'Retry-After': { description: 'Seconds until a request will be accepted again', schema: { type: 'integer' } },
      },
    }),
  );
}
