import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { VESTING_RELEASE_STATUSES, VESTING_STATUSES } from '@nova/domain';
import { PageOf, PageQuery } from '../../common/pagination';
import { ACCOUNT_PATTERN, AMOUNT_PATTERN, IsInstant, IsStellarAccount, IsStellarAmount } from '../../common/validators';

const BENEFICIARY_EXAMPLE = 'GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H';

export class CreateVestingScheduleRequest {
  @ApiProperty({
    format: 'uuid',
    description: 'A campaign of yours that is active, has started and not ended, with budget left for the whole total',
  })
  @IsUUID('4', { message: 'campaignId must be a UUID' })
  campaignId!: string;

  @ApiProperty({
    example: BENEFICIARY_EXAMPLE,
    pattern: ACCOUNT_PATTERN,
    description: "The wallet the NOVA vests to (G...); not one of the platform's own accounts",
  })
  @IsStellarAccount()
  beneficiary!: string;

  @ApiProperty({
    example: '1000000',
    pattern: AMOUNT_PATTERN,
    description:
      'NOVA, a positive decimal string with at most 7 decimals; reserved against the campaign budget at once',
  })
  @IsStellarAmount()
  totalAmount!: string;

  @ApiProperty({ format: 'date-time', example: '2027-01-01T00:00:00Z', description: 'Vesting starts (whole seconds)' })
  @IsInstant()
  startAt!: string;

  @ApiProperty({
    format: 'date-time',
    example: '2028-01-01T00:00:00Z',
    description:
      'Nothing is released before it; the first release, at the cliff, pays all that vested by then. Not before startAt',
  })
  @IsInstant()
  cliffAt!: string;

  @ApiProperty({
    format: 'date-time',
    example: '2031-01-01T00:00:00Z',
    description: 'Fully vested (the last release). After startAt, not before cliffAt',
  })
  @IsInstant()
  endAt!: string;

  @ApiProperty({
    example: 'P1M',
    maxLength: 32,
    description:
      'How often a release is paid: an ISO-8601 duration (P1D, P1W, P1M, P1Y, PT10S...); calendar months in UTC. Not longer than the schedule; at most 4000 steps',
  })
  @IsString({ message: 'interval must be a string' })
  @MaxLength(32, { message: 'interval must be at most 32 characters' })
  interval!: string;

  @ApiProperty({ description: 'Whether you may revoke it (POST /v1/vesting-schedules/:id/revoke)' })
  @IsBoolean({ message: 'revocable must be a boolean' })
  revocable!: boolean;
}

export class VestingScheduleListQuery extends PageQuery {
  @ApiPropertyOptional({ enum: VESTING_STATUSES })
  @IsOptional()
  @IsIn(VESTING_STATUSES, { message: `status must be one of ${VESTING_STATUSES.join(', ')}` })
  status?: string;

  @ApiPropertyOptional({ pattern: ACCOUNT_PATTERN })
  @IsOptional()
  @IsStellarAccount()
  beneficiary?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('4', { message: 'campaignId must be a UUID' })
  campaignId?: string;
}

export class VestingReleaseView {
  @ApiProperty({ example: 1, description: '1-based, in time order' }) number!: number;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ example: '20833.3333333' }) amount!: string;
  @ApiProperty({ enum: VESTING_RELEASE_STATUSES }) status!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The payment; releases missed while stalled share the payment that caught up',
  })
  txHash!: string | null;
}

export class VestingScheduleLinks {
  @ApiProperty({ example: '/v1/vesting-schedules/8a1f...' }) self!: string;
  @ApiProperty({ example: 'http://127.0.0.1:8233/namespaces/default/workflows/vesting%2F8a1f...' })
  temporalUi!: string;
}

export class VestingStalledView {
  @ApiProperty({ example: 'TrustlineMissing', description: 'Why the due payment was refused' }) failureType!: string;
  @ApiProperty() message!: string;
  @ApiProperty({ format: 'date-time' }) since!: string;
}

export class VestingRevocationView {
  @ApiProperty({ format: 'date-time' }) revokedAt!: string;
  @ApiProperty({ example: '1250.0000000', description: 'What had vested and was not released, paid by the revocation' })
  paidAmount!: string;
  @ApiProperty({ example: '750000.0000000', description: 'The unvested rest, returned to the campaign budget' })
  returnedAmount!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The payment; null when nothing was owed' })
  txHash!: string | null;
}

export class VestingScheduleView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: VESTING_STATUSES, example: 'active' }) status!: string;
  @ApiProperty({ format: 'uuid' }) campaignId!: string;
  @ApiProperty({ pattern: ACCOUNT_PATTERN }) beneficiary!: string;
  @ApiProperty({ example: '1000000.0000000' }) totalAmount!: string;
  @ApiProperty({ example: '250000.0000000', description: 'Vested by now (frozen at the revocation)' })
  vestedAmount!: string;
  @ApiProperty({ example: '250000.0000000' }) releasedAmount!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) nextReleaseAt!: string | null;
  @ApiProperty({ format: 'date-time' }) startAt!: string;
  @ApiProperty({ format: 'date-time' }) cliffAt!: string;
  @ApiProperty({ format: 'date-time' }) endAt!: string;
  @ApiProperty({ example: 'P1M', description: 'An ISO-8601 duration' }) interval!: string;
  @ApiProperty() revocable!: boolean;
  @ApiProperty({ type: [VestingReleaseView] }) releases!: VestingReleaseView[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The create_schedule transaction on the vesting contract; null until it landed',
  })
  registeredTxHash!: string | null;
  @ApiProperty({ type: VestingStalledView, nullable: true, description: 'Set while a due release cannot be paid' })
  stalled!: VestingStalledView | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description:
      'When the workflow took a revocation it is still carrying out (freezing the schedule on chain, paying what vested; vestedAmount is frozen there); null otherwise. Once done, status is revoked and revocation says what it paid',
  })
  revocationRequestedAt!: string | null;
  @ApiProperty({ type: VestingRevocationView, nullable: true }) revocation!: VestingRevocationView | null;
  @ApiProperty({ example: 'vesting/8a1f...' }) workflowId!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: VestingScheduleLinks }) links!: VestingScheduleLinks;
}

export class VestingSchedulePage extends PageOf(VestingScheduleView) {}

export class AdminVestingScheduleView extends VestingScheduleView {
  @ApiProperty({ format: 'uuid' }) merchantId!: string;
}

export class AdminVestingSchedulePage extends PageOf(AdminVestingScheduleView) {}

export class AdminVestingScheduleListQuery extends VestingScheduleListQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('4', { message: 'merchantId must be a UUID' })
  merchantId?: string;
}
