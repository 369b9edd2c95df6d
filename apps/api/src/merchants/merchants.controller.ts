import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AdminOnly } from '../auth/admin.guard';
import { ErrorResponse } from '../common/error-response';
import { RateLimited } from '../common/rate-limit';
import { CreatedMerchantView, CreateMerchantRequest, MerchantDetailView, MerchantIdParams } from './dto/merchant.dto';
import { MerchantsService } from './merchants.service';

@ApiTags('merchants')
@AdminOnly()
@RateLimited()
@Controller('v1/merchants')
export class MerchantsController {
  constructor(private readonly merchants: MerchantsService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a merchant with its first API key',
    description: 'The API key is in this response only: it is stored hashed and cannot be shown again.',
  })
  @ApiCreatedResponse({ type: CreatedMerchantView })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'Invalid body; details name the field' })
  async create(@Body() body: CreateMerchantRequest): Promise<CreatedMerchantView> {
    return await this.merchants.create(body.name);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a merchant and its API keys (never their secrets)' })
  @ApiOkResponse({ type: MerchantDetailView })
  @ApiBadRequestResponse({ type: ErrorResponse, description: 'Malformed id' })
  @ApiNotFoundResponse({ type: ErrorResponse, description: 'No such merchant' })
  async get(@Param() params: MerchantIdParams): Promise<MerchantDetailView> {
    return await this.merchants.get(params.id);
  }
}
