import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import {
  CONTRACT_RECORD_KINDS,
  EXPECTED_PAYMENT_KINDS,
  RECONCILIATION_MISMATCH_KINDS,
  RECONCILIATION_STATUSES,
  RECONCILIATION_TRIGGERS,
} from '@nova/domain';
import { PageOf, PageQuery } from '../../common/pagination';
import { IsAfter, IsInstant } from '../../common/validators';

const RESOURCE_KINDS = [...EXPECTED_PAYMENT_KINDS, ...CONTRACT_RECORD_KINDS, 'unknown'];

export class CreateReconciliationRequest {
  @ApiProperty({ format: 'date-time', example: '2026-12-01T00:00:00Z', description: 'Start of the window (included)' })
  @IsInstant()
  from!: string;

  @ApiProperty({
    format: 'date-time',
    example: '2026-12-02T00:00:00Z',
    description:
      'End of the window (excluded): after from, not in the future, at most RECONCILIATION_MAX_WINDOW_SECONDS after from',
  })
  @IsInstant()
  @IsAfter('from')
  to!: string;
}

export class ReconciliationWindow {
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) to!: string;
}

export class ReconciliationChecked {
  @ApiProperty({
    type: 'integer',
    description: 'Payments that left the distribution account or a channel in the window',
  })
  chainPayments!: number;
  @ApiProperty({ type: 'integer', description: 'Issuances confirmed in the window, each matched to its payment' })
  issuances!: number;
  @ApiProperty({ type: 'integer', description: 'Redemption refunds paid in the window, each matched to its payment' })
  redemptionRefunds!: number;
  @ApiProperty({ type: 'integer', description: 'Vesting releases paid in the window, each matched to its payment' })
  vestingReleases!: number;
  @ApiProperty({ type: 'integer', description: 'Campaign contract records compared with their campaigns' })
  campaigns!: number;
  @ApiProperty({ type: 'integer', description: 'Redemption contract records compared with their redemptions' })
  redemptions!: number;
}

export class ReconciliationCountsView {
  @ApiProperty({ type: ReconciliationChecked, description: 'Records checked, per kind (0 until the run completes)' })
  checked!: ReconciliationChecked;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: `Mismatches per kind (${RECONCILIATION_MISMATCH_KINDS.join(', ')})`,
    example: { payment_differs: 1 },
  })
  mismatches!: Record<string, number>;
}

export class ReconciliationMismatchView {
  @ApiProperty({ example: '17' }) id!: string;
  @ApiProperty({ enum: RECONCILIATION_MISMATCH_KINDS }) kind!: string;
  @ApiProperty({ enum: RESOURCE_KINDS }) resourceKind!: string;
  @ApiProperty({ type: String, nullable: true }) resourceId!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    format: 'uuid',
    description: 'The merchant whose resource it is; null for a payment no platform record explains',
  })
  merchantId!: string | null;
  @ApiProperty({ example: 'issuance 0b9d...: amount 10.0000000 on chain, 99.0000000 recorded' }) message!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'What the chain shows (the payment, or the contract record); null when the chain has nothing',
  })
  chain!: Record<string, unknown> | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'What the read model says (the record, and the journal item); null when it has nothing',
  })
  readModel!: Record<string, unknown> | null;
  @ApiProperty({ format: 'date-time' }) detectedAt!: string;
}

export class ReconciliationLinks {
  @ApiProperty({ example: '/v1/admin/reconciliations/0b9d...' }) self!: string;
  @ApiProperty({ example: 'http://127.0.0.1:8233/namespaces/default/workflows/reconciliation%2F0b9d...' })
  temporalUi!: string;
}

export class ReconciliationView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: RECONCILIATION_STATUSES }) status!: string;
  @ApiProperty({ enum: RECONCILIATION_TRIGGERS, description: 'schedule (the daily run) or admin (on demand)' })
  trigger!: string;
  @ApiProperty({ type: ReconciliationWindow }) window!: ReconciliationWindow;
  @ApiProperty({ type: ReconciliationCountsView }) counts!: ReconciliationCountsView;
  @ApiProperty({ type: 'integer' }) mismatchCount!: number;
  @ApiProperty({ type: String, nullable: true, description: 'Why the run failed' }) failureMessage!: string | null;
  @ApiProperty({ example: 'reconciliation/0b9d...' }) workflowId!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) completedAt!: string | null;
  @ApiProperty({ type: ReconciliationLinks }) links!: ReconciliationLinks;
}

export class ReconciliationReport extends ReconciliationView {
  @ApiProperty({ type: ReconciliationMismatchView, isArray: true, description: 'Each mismatch with both sides' })
  mismatches!: ReconciliationMismatchView[];
}

export class ReconciliationListQuery extends PageQuery {
  @ApiPropertyOptional({ enum: RECONCILIATION_STATUSES })
  @IsOptional()
  @IsIn(RECONCILIATION_STATUSES, { message: `status must be one of ${RECONCILIATION_STATUSES.join(', ')}` })
  status?: string;
}

export class ReconciliationPage extends PageOf(ReconciliationView) {}
