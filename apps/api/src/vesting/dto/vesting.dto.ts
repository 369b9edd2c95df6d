import { ApiProperty } from '@nestjs/swagger';
import { VESTING_RELEASE_STATUSES, VESTING_STATUSES } from '@nova/domain';
import { ACCOUNT_PATTERN } from '../../common/validators';

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
  @ApiProperty({ example: 'vesting/8a1f...' }) workflowId!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: VestingScheduleLinks }) links!: VestingScheduleLinks;
}
