import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsNotEmpty, IsOptional, IsString, IsUUID, MaxLength, ValidateIf } from 'class-validator';
import { PageOf } from '../../common/pagination';
import { IsAfter, IsInstant, IsStellarAmount } from '../../common/validators';
import { AMOUNT_PATTERN } from '../../common/validators';

import { CAMPAIGN_STATUSES, ON_CHAIN_STATUSES, type CampaignStatus, type OnChainStatus } from '@nova/domain';

const trim = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);
// In a PATCH an absent field means "unchanged", but null is not a value any of them can take.
const present = (_request: object, value: unknown): boolean => value !== undefined;

export class CampaignIdParams {
  @ApiProperty({ format: 'uuid', description: 'The campaign id' })
  @IsUUID('4', { message: 'id must be a UUID' })
  id!: string;
}

export class CreateCampaignRequest {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Spring loyalty bonus' })
  @Transform(trim)
  @IsString({ message: 'name must be a string' })
  @IsNotEmpty({ message: 'name must not be empty' })
  @MaxLength(200, { message: 'name must be at most 200 characters' })
  name!: string;

  @ApiProperty({
    example: '10000',
    pattern: AMOUNT_PATTERN,
    description: 'Total NOVA the campaign may pay out (decimal string, at most 7 decimals)',
  })
  @IsStellarAmount()
  budget!: string;

  @ApiProperty({ format: 'date-time', example: '2026-03-01T00:00:00Z' })
  @IsInstant()
  startsAt!: string;

  @ApiProperty({ format: 'date-time', example: '2026-06-01T00:00:00Z', description: 'Must be after startsAt' })
  @IsInstant()
  @IsAfter('startsAt')
  endsAt!: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: '50',
    pattern: AMOUNT_PATTERN,
    description: 'Most NOVA one wallet may receive from this campaign; omit or null for no cap',
  })
  @IsOptional()
  @IsStellarAmount()
  maxPerWallet?: string | null;
}

/** Only these fields may change; any other field in the body is a 400 naming it. */
export class UpdateCampaignRequest {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200, example: 'Summer loyalty bonus' })
  @ValidateIf(present)
  @Transform(trim)
  @IsString({ message: 'name must be a string' })
  @IsNotEmpty({ message: 'name must not be empty' })
  @MaxLength(200, { message: 'name must be at most 200 characters' })
  name?: string;

  @ApiPropertyOptional({
    example: '12000',
    pattern: AMOUNT_PATTERN,
    description: 'The new total budget; at least what is already reserved and paid (else 409 BudgetBelowCommitted)',
  })
  @ValidateIf(present)
  @IsStellarAmount()
  budget?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Must stay after startsAt' })
  @ValidateIf(present)
  @IsInstant()
  endsAt?: string;

  @ApiPropertyOptional({ enum: CAMPAIGN_STATUSES })
  @ValidateIf(present)
  @IsIn(CAMPAIGN_STATUSES, { message: `status must be one of: ${CAMPAIGN_STATUSES.join(', ')}` })
  status?: CampaignStatus;
}

export type OnChainStatusView = OnChainStatus;

export class CampaignOnChainError {
  @ApiProperty({
    example: 'CampaignExists',
    description:
      "The refusal's type: the contract's error name (CampaignExists, CampaignNotFound, ...) or a Stellar failure type",
  })
  type!: string;
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 3,
    description: "The contract's numbered error, when it refused",
  })
  code!: number | null;
  @ApiProperty({ example: 'register refused by contract CB...: CampaignExists (#3)' }) message!: string;
  @ApiProperty({ enum: ['register', 'update', 'pause', 'resume'], description: 'The change that was refused' })
  change!: string;
}

export class CampaignOnChainView {
  @ApiProperty({
    enum: ON_CHAIN_STATUSES,
    description:
      'pending: a change is accepted and not yet written; synced: every change is on the campaign contract; ' +
      'failed: the contract (or the network) refused a change and no later change has made up for it',
  })
  status!: OnChainStatusView;
  @ApiProperty({ type: String, nullable: true, description: 'Hash of the last change that landed' })
  txHash!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Ledger of the last change that landed' })
  ledger!: number | null;
  @ApiPropertyOptional({ type: CampaignOnChainError, description: 'Only when status is failed' })
  error?: CampaignOnChainError;
}

export class CampaignView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'Spring loyalty bonus' }) name!: string;
  @ApiProperty({ example: '10000.0000000' }) budget!: string;
  @ApiProperty({ example: '120.0000000', description: 'Held for issuances in flight' }) reserved!: string;
  @ApiProperty({ example: '880.0000000', description: 'Paid out, confirmed on chain' }) paid!: string;
  @ApiProperty({ example: '9000.0000000', description: 'budget - reserved - paid' }) remaining!: string;
  @ApiProperty({ type: String, nullable: true, example: '50.0000000' }) maxPerWallet!: string | null;
  @ApiProperty({ format: 'date-time' }) startsAt!: string;
  @ApiProperty({ format: 'date-time' }) endsAt!: string;
  @ApiProperty({ enum: CAMPAIGN_STATUSES }) status!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({
    type: CampaignOnChainView,
    nullable: true,
    description:
      'The campaign on the campaign contract (budget, dates, paused/active; the name stays off chain). ' +
      'null when campaign sync is not configured, or for a campaign created while it was not (put on chain at its next change).',
  })
  onChain!: CampaignOnChainView | null;
}

export class CampaignPage extends PageOf(CampaignView) {}
