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

/** Admin routes: the caller must present the admin API key in X-API-Key. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly adminKeyDigest: Buffer;

  constructor(@InjectConfig() config: ApiConfig) {
    this.adminKeyDigest = digest(config.adminApiKey);
  }

  canActivate(context: ExecutionContext): boolean {
    const presented = context.switchToHttp().getRequest<Request>().headers[API_KEY_HEADER];
    if (typeof presented !== 'string' || presented === '') {
      throw new UnauthorizedException('X-API-Key header is required');
    }
    // Compare digests in constant time so the key cannot be guessed byte by byte.
    if (!timingSafeEqual(digest(presented), this.adminKeyDigest)) {
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
