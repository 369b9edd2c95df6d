import { createHash, timingSafeEqual } from 'node:crypto';
import {
  applyDecorators,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiForbiddenResponse, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Request } from 'express';
import type { ApiConfig } from '@nova/config';
import { PrismaClient } from '@nova/db';
import { parseApiKey, secretMatches } from './api-keys';
import { InjectConfig } from '../config/config.module';
import { ErrorResponse } from '../common/error-response';

export const API_KEY_HEADER = 'x-api-key';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time comparison of digests, so the key cannot be guessed byte by byte. */
export function isAdminKey(presented: string, adminApiKey: string): boolean {
  return timingSafeEqual(digest(presented), digest(adminApiKey));
}

/**
 * Admin routes: the caller must present the admin API key in X-API-Key. As on merchant routes
 * (the other way round): no key or an invalid one is 401, a genuine key without the role 403.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    @InjectConfig() private readonly config: ApiConfig,
    @Inject(PrismaClient) private readonly db: PrismaClient,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const presented = context.switchToHttp().getRequest<Request>().headers[API_KEY_HEADER];
    if (typeof presented !== 'string' || presented === '') {
      throw new UnauthorizedException('X-API-Key header is required');
    }
    if (isAdminKey(presented, this.config.adminApiKey)) return true;
    if (await this.isLiveMerchantKey(presented)) {
      throw new ForbiddenException('a merchant API key cannot use admin routes: use the admin key');
    }
    throw new UnauthorizedException('X-API-Key is not a valid admin key');
  }

  private async isLiveMerchantKey(presented: string): Promise<boolean> {
    const parsed = parseApiKey(presented);
    if (!parsed) return false;
    const row = await this.db.apiKey.findUnique({
      where: { prefix: parsed.prefix },
      select: { secretHash: true, revokedAt: true },
    });
    return row !== null && row.revokedAt === null && secretMatches(parsed.secret, row.secretHash);
  }
}

export function AdminOnly(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(AdminGuard),
    ApiSecurity('admin-key'),
    ApiUnauthorizedResponse({ type: ErrorResponse, description: 'Missing or invalid admin key' }),
    ApiForbiddenResponse({ type: ErrorResponse, description: 'A merchant API key used on an admin route' }),
  );
}
