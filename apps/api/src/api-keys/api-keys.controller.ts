import { Body, Controller, Delete, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AdminOnly } from '../auth/admin.guard';
import { ErrorResponse } from '../common/error-response';
import { RateLimited } from '../common/rate-limit';
import { MerchantIdParams } from '../merchants/dto/merchant.dto';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyIdParams, CreateApiKeyRequest, CreatedApiKeyView } from './dto/api-key.dto';

@ApiTags('api-keys')
@AdminOnly()
@RateLimited()
@Controller('v1')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post('merchants/:id/api-keys')
  @ApiOperation({
    summary: 'Issue another API key to a merchant',
    description: 'The key is in this response only: it is stored hashed and cannot be shown again.',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyView })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'Malformed merchant id or label' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'No such merchant' })
  @ApiBody({ type: CreateApiKeyRequest, required: false, description: 'Optional: the label of the key' })
  async create(@Param() params: MerchantIdParams, @Body() body: CreateApiKeyRequest): Promise<CreatedApiKeyView> {
    return await this.apiKeys.create(params.id, body.label ?? null);
  }

  @Delete('api-keys/:id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Revoke an API key',
    description:
      'The key stops working immediately (401). Revoking an already revoked key also answers 204 and keeps the original revocation time.',
  })
  @ApiNoContentResponse({ description: 'Revoked (or already revoked)' })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'Malformed id' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'No such API key' })
  async revoke(@Param() params: ApiKeyIdParams): Promise<void> {
    await this.apiKeys.revoke(params.id);
  }
}
