import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { PageOf, PageQuery } from '../../common/pagination';
import { IsBoundedJsonObject, IsStellarAccount, IsStellarAmount, type JsonObjectBounds } from '../../common/validators';
import { ACCOUNT_PATTERN, AMOUNT_PATTERN } from '../../common/validators';

import { ISSUANCE_FAILURE_TYPES, ISSUANCE_STATUSES } from '@nova/domain';

export const METADATA_BOUNDS: JsonObjectBounds = { maxDepth: 5, maxKeys: 50, maxBytes: 4096 };

export class CreateIssuanceRequest {
  @ApiProperty({ format: 'uuid', description: 'A campaign of yours that is active and has budget left' })
  @IsUUID('4', { message: 'campaignId must be a UUID' })
  campaignId!: string;

  @ApiProperty({
    example: 'GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H',
    pattern: ACCOUNT_PATTERN,
    description: "The customer wallet (G...); not one of the platform's own accounts (issuer, distribution, channels)",
  })
  @IsStellarAccount()
  walletAddress!: string;

  @ApiProperty({
    example: '12.5',
    pattern: AMOUNT_PATTERN,
    description: 'NOVA, a positive decimal string with at most 7 decimals',
  })
  @IsStellarAmount()
  amount!: string;

  @ApiPropertyOptional({ example: 'order-18311', description: 'Your own reference, returned as is', maxLength: 128 })
  @IsOptional()
  @IsString({ message: 'reference must be a string' })
  @MaxLength(128, { message: 'reference must be at most 128 characters' })
  reference?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: `Free-form JSON object, returned as is: at most ${METADATA_BOUNDS.maxBytes} bytes as JSON, ${METADATA_BOUNDS.maxKeys} keys in all and ${METADATA_BOUNDS.maxDepth} levels of nesting; no NUL characters or unpaired surrogates in keys or strings`,
    maxProperties: METADATA_BOUNDS.maxKeys,
    example: { orderId: '18311', channel: 'web' },
  })
  @IsOptional()
  @IsBoundedJsonObject(METADATA_BOUNDS)
  metadata?: Record<string, unknown>;
}

export class IssuanceFailureView {
  @ApiProperty({ enum: ISSUANCE_FAILURE_TYPES, example: 'TrustlineMissing' }) type!: string;
  @ApiProperty({ example: 'wallet G...: trustline-missing' }) message!: string;
}

export class IssuanceLinks {
  @ApiProperty({ example: '/v1/rewards/issuances/8a1f...' }) self!: string;
  @ApiProperty({ example: 'http://127.0.0.1:8233/namespaces/default/workflows/issuance%2F8a1f...' })
  temporalUi!: string;
}

export class IssuanceView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ISSUANCE_STATUSES, example: 'confirmed' }) status!: string;
  @ApiProperty({ format: 'uuid' }) campaignId!: string;
  @ApiProperty({ example: 'GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H', pattern: ACCOUNT_PATTERN })
  walletAddress!: string;
  @ApiProperty({ example: '12.5000000' }) amount!: string;
  @ApiProperty({ type: String, nullable: true, example: 'order-18311' }) reference!: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: { orderId: '18311', channel: 'web' },
  })
  metadata!: Record<string, unknown> | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The Stellar transaction that paid it',
    example: '3389e9f0f1a65f19736cacf544c2e825313e8447f569233bb8db39aa607c8889',
  })
  txHash!: string | null;
  @ApiProperty({ type: Number, nullable: true, example: 1234567 }) ledger!: number | null;
  @ApiProperty({ type: IssuanceFailureView, nullable: true }) failure!: IssuanceFailureView | null;
  @ApiProperty({ description: 'Runs of the issuance workflow: 1, plus one per admin replay', example: 1 })
  attempts!: number;
  @ApiProperty({ example: 'issuance/8a1f...' }) workflowId!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: IssuanceLinks }) links!: IssuanceLinks;
}

export class IssuancePage extends PageOf(IssuanceView) {}

/** An issuance as admins see it: with the merchant it belongs to. */
export class AdminIssuanceView extends IssuanceView {
  @ApiProperty({ format: 'uuid', description: 'The merchant that issued it' }) merchantId!: string;
}

export class AdminIssuancePage extends PageOf(AdminIssuanceView) {}

/** Filters both the merchant's and the admin's issuance lists take. */
class IssuanceFilters extends PageQuery {
  @ApiPropertyOptional({ enum: ISSUANCE_STATUSES })
  @IsOptional()
  @IsIn(ISSUANCE_STATUSES, { message: `status must be one of ${ISSUANCE_STATUSES.join(', ')}` })
  status?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('4', { message: 'campaignId must be a UUID' })
  campaignId?: string;
}

export class IssuanceListQuery extends IssuanceFilters {
  @ApiPropertyOptional({
    pattern: ACCOUNT_PATTERN,
    example: 'GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H',
  })
  @IsOptional()
  @IsStellarAccount()
  walletAddress?: string;
}

export class AdminIssuanceListQuery extends IssuanceFilters {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('4', { message: 'merchantId must be a UUID' })
  merchantId?: string;
}

export class ReplayManyRequest {
  @ApiProperty({ type: [String], format: 'uuid', minItems: 1, maxItems: 100 })
  @IsArray({ message: 'ids must be an array of issuance ids' })
  @ArrayMinSize(1, { message: 'ids must name at least one issuance' })
  @ArrayMaxSize(100, { message: 'ids must name at most 100 issuances' })
  @IsUUID('4', { each: true, message: 'ids must be UUIDs' })
  ids!: string[];
}

export class ReplayResultView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['replaying', 'already-replaying', 'not-failed', 'not-found'] }) outcome!: string;
  @ApiPropertyOptional({ type: AdminIssuanceView }) issuance?: AdminIssuanceView;
}

export class ReplayManyView {
  @ApiProperty({ type: [ReplayResultView] }) results!: ReplayResultView[];
}
