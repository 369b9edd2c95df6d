import { createHash, timingSafeEqual } from 'node:crypto';
import {
  applyDecorators,
  Injectable,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Request } from 'express';
import type { ApiConfig } from '@nova/config';
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

/** Admin routes: the caller must present the admin API key in X-API-Key. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(@InjectConfig() private readonly config: ApiConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const presented = context.switchToHttp().getRequest<Request>().headers[API_KEY_HEADER];
    if (typeof presented !== 'string' || presented === '') {
      throw new UnauthorizedException('X-API-Key header is required');
    }
    if (!isAdminKey(presented, this.config.adminApiKey)) {
      throw new UnauthorizedException('X-API-Key is not a valid admin key');
    }
    return true;
  }
}

export function AdminOnly(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(AdminGuard),
    ApiSecurity('admin-key'),
    ApiUnauthorizedResponse({ type: ErrorResponse, description: 'Missing or invalid admin key' }),
  );
}
