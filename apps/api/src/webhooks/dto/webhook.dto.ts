import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import {
  ALL_WEBHOOK_EVENTS,
  CONTRACT_RECORD_KINDS,
  EXPECTED_PAYMENT_KINDS,
  RECONCILIATION_MISMATCH_KINDS,
  WEBHOOK_DELIVERY_FAILURES,
  WEBHOOK_DELIVERY_STATUSES,
  WEBHOOK_EVENT_TYPES,
  type WebhookEndpointResource,
} from '@nova/domain';
import { RedemptionView } from '../../redemptions/dto/redemption.dto';
import { VestingScheduleView } from '../../vesting/dto/vesting.dto';
import { PageOf, PageQuery } from '../../common/pagination';
import { IssuanceView } from '../../issuances/dto/issuance.dto';
import { CampaignView } from '../../campaigns/dto/campaign.dto';

const SUBSCRIBABLE = [ALL_WEBHOOK_EVENTS, ...WEBHOOK_EVENT_TYPES.filter((t) => t !== 'webhook.test')];
const EVENTS_MESSAGE = `events must be a list of event types (${SUBSCRIBABLE.join(', ')})`;
const trim = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);
const present = (_request: object, value: unknown): boolean => value !== undefined;

export class WebhookEndpointIdParams {
  @ApiProperty({ format: 'uuid', description: 'The endpoint id' })
  @IsUUID('4', { message: 'id must be a UUID' })
  id!: string;
}

export class WebhookDeliveryIdParams {
  @ApiProperty({ format: 'uuid', description: 'The delivery id' })
  @IsUUID('4', { message: 'id must be a UUID' })
  id!: string;
}

export class CreateWebhookEndpointRequest {
  @ApiProperty({
    example: 'https://merchant.example/hooks/nova',
    maxLength: 2048,
    description:
      'http(s) only. Literal addresses in private, loopback, link-local, CGNAT, multicast or cloud-metadata ' +
      'ranges are refused here; hostnames are checked after DNS resolution at every attempt.',
  })
  @Transform(trim)
  @IsString({ message: 'url must be a string' })
  @MaxLength(2048, { message: 'url must be at most 2048 characters' })
  url!: string;

  @ApiProperty({
    type: [String],
    enum: SUBSCRIBABLE,
    example: ['issuance.confirmed', 'issuance.failed'],
    description: 'Event types to deliver, or ["*"] for all of them (including types added later)',
  })
  @IsArray({ message: EVENTS_MESSAGE })
  @ArrayMinSize(1, { message: EVENTS_MESSAGE })
  @ArrayMaxSize(SUBSCRIBABLE.length, { message: EVENTS_MESSAGE })
  @ArrayUnique({ message: 'events must not repeat a type' })
  @IsIn(SUBSCRIBABLE, { each: true, message: EVENTS_MESSAGE })
  events!: string[];

  @ApiPropertyOptional({ maxLength: 500, example: 'Order service' })
  @IsOptional()
  @IsString({ message: 'description must be a string' })
  @MaxLength(500, { message: 'description must be at most 500 characters' })
  description?: string;
}

export class UpdateWebhookEndpointRequest {
  @ApiPropertyOptional({ maxLength: 2048, example: 'https://merchant.example/hooks/nova' })
  @ValidateIf(present)
  @Transform(trim)
  @IsString({ message: 'url must be a string' })
  @MaxLength(2048, { message: 'url must be at most 2048 characters' })
  url?: string;

  @ApiPropertyOptional({ type: [String], enum: SUBSCRIBABLE })
  @ValidateIf(present)
  @IsArray({ message: EVENTS_MESSAGE })
  @ArrayMinSize(1, { message: EVENTS_MESSAGE })
  @ArrayMaxSize(SUBSCRIBABLE.length, { message: EVENTS_MESSAGE })
  @ArrayUnique({ message: 'events must not repeat a type' })
  @IsIn(SUBSCRIBABLE, { each: true, message: EVENTS_MESSAGE })
  events?: string[];

  @ApiPropertyOptional({
    description: 'false stops deliveries; true enables it again (also after an automatic disable)',
  })
  @ValidateIf(present)
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;

  @ApiPropertyOptional({ maxLength: 500, type: String, nullable: true })
  @IsOptional()
  @IsString({ message: 'description must be a string' })
  @MaxLength(500, { message: 'description must be at most 500 characters' })
  description?: string | null;
}

export class WebhookEndpointView implements WebhookEndpointResource {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'https://merchant.example/hooks/nova' }) url!: string;
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ type: [String], example: ['issuance.confirmed'] }) events!: string[];
  @ApiProperty() enabled!: boolean;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'the endpoint answered 410 Gone',
    description: 'Why deliveries stopped: a 410 answer, failing every attempt for 5 days, or by you',
  })
  disabledReason!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) disabledAt!: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'After a rotation, deliveries carry a signature with the previous secret too until then',
  })
  previousSecretExpiresAt!: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'First failed attempt since the last success; failing for 5 days disables the endpoint',
  })
  failingSince!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastSuccessAt!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class WebhookEndpointWithSecretView extends WebhookEndpointView {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'The signing secret (Standard Webhooks): shown only now; keep it to verify deliveries',
  })
  secret!: string;
}

export class WebhookEndpointPage extends PageOf(WebhookEndpointView) {}

export class WebhookTestView {
  @ApiProperty({ format: 'uuid', description: 'The delivery of the webhook.test event' }) deliveryId!: string;
  @ApiProperty({ example: 'evt_42' }) eventId!: string;
}

export class WebhookDeliveryFailureView {
  @ApiProperty({ enum: WEBHOOK_DELIVERY_FAILURES }) type!: string;
  @ApiProperty({ example: 'every attempt failed (last: answered 500)' }) reason!: string;
}

export class WebhookDeliveryLinks {
  @ApiProperty({ example: '/v1/webhooks/deliveries/5b0e...' }) self!: string;
  @ApiProperty({ example: 'http://127.0.0.1:8233/namespaces/default/workflows/webhook-delivery%2F42%2F5b0e...' })
  temporalUi!: string;
}

export class WebhookDeliveryView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'evt_42', description: 'The event (its webhook-id header): the same on every attempt' })
  eventId!: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES }) eventType!: string;
  @ApiProperty({ format: 'uuid' }) endpointId!: string;
  @ApiProperty({ enum: WEBHOOK_DELIVERY_STATUSES }) status!: string;
  @ApiProperty({ description: '1, plus one per redelivery' }) run!: number;
  @ApiProperty({ description: 'Attempts over all runs' }) attemptCount!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) nextAttemptAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastAttemptAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) deliveredAt!: string | null;
  @ApiProperty({ type: WebhookDeliveryFailureView, nullable: true }) failure!: WebhookDeliveryFailureView | null;
  @ApiProperty({ example: 'webhook-delivery/42/5b0e...' }) workflowId!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: WebhookDeliveryLinks }) links!: WebhookDeliveryLinks;
}

export class WebhookAttemptView {
  @ApiProperty() run!: number;
  @ApiProperty() number!: number;
  @ApiProperty({ format: 'date-time', description: 'When it was sent (its webhook-timestamp)' }) attemptedAt!: string;
  @ApiProperty({ type: Number, nullable: true, example: 500 }) responseStatus!: number | null;
  @ApiProperty({ example: 84 }) latencyMs!: number;
  @ApiProperty({
    type: String,
    nullable: true,
    enum: ['timeout', 'network', 'address-refused', 'redirect', 'status'],
  })
  errorKind!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'no response within 15 s' }) error!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The first 1 KB of the response body' })
  responseBody!: string | null;
}

export class WebhookDeliveryDetailView extends WebhookDeliveryView {
  @ApiProperty({ type: [WebhookAttemptView], description: 'Every attempt, oldest first' })
  attempts!: WebhookAttemptView[];
}

export class WebhookDeliveryPage extends PageOf(WebhookDeliveryView) {}

export class WebhookDeliveryListQuery extends PageQuery {
  @ApiPropertyOptional({ enum: WEBHOOK_DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(WEBHOOK_DELIVERY_STATUSES, { message: `status must be one of ${WEBHOOK_DELIVERY_STATUSES.join(', ')}` })
  status?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('4', { message: 'endpointId must be a UUID' })
  endpointId?: string;

  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_TYPES })
  @IsOptional()
  @IsIn(WEBHOOK_EVENT_TYPES, { message: `eventType must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` })
  eventType?: string;
}

/** The body of every delivery: one schema per event type, for the OpenAPI document. */
abstract class WebhookEventBase {
  @ApiProperty({ example: 'evt_42', description: 'Also the webhook-id header; the same on every attempt' })
  id!: string;
  @ApiProperty({ format: 'date-time', description: 'When the change happened' }) createdAt!: string;
}

export class IssuanceConfirmedEvent extends WebhookEventBase {
  @ApiProperty({ enum: ['issuance.confirmed'] }) type!: string;
  @ApiProperty({ type: IssuanceView, description: 'The issuance as GET /v1/rewards/issuances/:id returns it' })
  data!: IssuanceView;
}

export class IssuanceFailedEvent extends WebhookEventBase {
  @ApiProperty({ enum: ['issuance.failed'] }) type!: string;
  @ApiProperty({ type: IssuanceView }) data!: IssuanceView;
}

export class CampaignSyncedEvent extends WebhookEventBase {
  @ApiProperty({ enum: ['campaign.synced'] }) type!: string;
  @ApiProperty({ type: CampaignView, description: 'The campaign as GET /v1/campaigns/:id returns it' })
  data!: CampaignView;
}

export class CampaignSyncFailedEvent extends WebhookEventBase {
  @ApiProperty({ enum: ['campaign.sync_failed'] }) type!: string;
  @ApiProperty({ type: CampaignView }) data!: CampaignView;
}

export class WebhookTestData {
  @ApiProperty({ format: 'uuid' }) endpointId!: string;
  @ApiProperty({ example: 'This is a test event from Nova Rewards' }) message!: string;
}

export class WebhookTestEvent extends WebhookEventBase {
  @ApiProperty({ enum: ['webhook.test'] }) type!: string;
  @ApiProperty({ type: WebhookTestData }) data!: WebhookTestData;
}

export class EndpointDisabledEvent extends WebhookEventBase {
  @ApiProperty({ enum: ['endpoint.disabled'] }) type!: string;
  @ApiProperty({
    type: WebhookEndpointView,
    description: 'The endpoint that was disabled (sent to your other endpoints)',
  })
  data!: WebhookEndpointView;
}

export class RedemptionPaidEvent extends WebhookEventBase {
  @ApiProperty({ enum: ['redemption.paid'] }) type!: string;
  @ApiProperty({ type: RedemptionView, description: 'The redemption as GET /v1/redemptions/:id returns it' })
  data!: RedemptionView;
}

export class RedemptionFulfilledEvent extends WebhookEventBase {
  @ApiProperty({ enum: ['redemption.fulfilled'] }) type!: string;
  @ApiProperty({ type: RedemptionView }) data!: RedemptionView;
}

export class RedemptionRefundedEvent extends WebhookEventBase {
  @ApiProperty({ enum: ['redemption.refunded'] }) type!: string;
  @ApiProperty({ type: RedemptionView }) data!: RedemptionView;
}

export class RedemptionFailedEvent extends WebhookEventBase {
  @ApiProperty({ enum: ['redemption.failed'] }) type!: string;
  @ApiProperty({ type: RedemptionView }) data!: RedemptionView;
}

export class VestingReleasedEvent extends WebhookEventBase {
  @ApiProperty({ enum: ['vesting.released'] }) type!: string;
  @ApiProperty({
    type: VestingScheduleView,
    description: 'The schedule as GET /v1/vesting-schedules/:id returns it',
  })
  data!: VestingScheduleView;
}

export class VestingStalledEvent extends WebhookEventBase {
  @ApiProperty({ enum: ['vesting.stalled'] }) type!: string;
  @ApiProperty({ type: VestingScheduleView }) data!: VestingScheduleView;
}

export class VestingCompletedEvent extends WebhookEventBase {
  @ApiProperty({ enum: ['vesting.completed'] }) type!: string;
  @ApiProperty({ type: VestingScheduleView }) data!: VestingScheduleView;
}

export class VestingRevokedEvent extends WebhookEventBase {
  @ApiProperty({ enum: ['vesting.revoked'] }) type!: string;
  @ApiProperty({ type: VestingScheduleView }) data!: VestingScheduleView;
}

export class ReconciliationMismatchWindow {
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) to!: string;
}

export class ReconciliationMismatchData {
  @ApiProperty({ format: 'uuid', description: 'The reconciliation report (admins read it in full)' })
  reconciliationId!: string;
  @ApiProperty({ enum: RECONCILIATION_MISMATCH_KINDS }) kind!: string;
  @ApiProperty({ enum: [...EXPECTED_PAYMENT_KINDS, ...CONTRACT_RECORD_KINDS] }) resourceKind!: string;
  @ApiProperty({ type: String, nullable: true, description: 'Your resource the mismatch is about' })
  resourceId!: string | null;
  @ApiProperty({ example: 'issuance 0b9d...: amount 10.0000000 on chain, 99.0000000 recorded' }) message!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'What the chain shows (null: nothing)',
  })
  chain!: Record<string, unknown> | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'What the platform recorded (null: nothing)',
  })
  readModel!: Record<string, unknown> | null;
  @ApiProperty({ type: ReconciliationMismatchWindow }) window!: ReconciliationMismatchWindow;
  @ApiProperty({ format: 'date-time' }) detectedAt!: string;
}

export class ReconciliationMismatchEvent extends WebhookEventBase {
  @ApiProperty({ enum: ['reconciliation.mismatch'] }) type!: string;
  @ApiProperty({
    type: ReconciliationMismatchData,
    description:
      "A reconciliation found one of your resources disagreeing with the chain (the platform's operators are alerted too)",
  })
  data!: ReconciliationMismatchData;
}

/** Event type -> its payload schema. */
export const WEBHOOK_EVENT_SCHEMAS = {
  'issuance.confirmed': IssuanceConfirmedEvent,
  'issuance.failed': IssuanceFailedEvent,
  'campaign.synced': CampaignSyncedEvent,
  'campaign.sync_failed': CampaignSyncFailedEvent,
  'redemption.paid': RedemptionPaidEvent,
  'redemption.fulfilled': RedemptionFulfilledEvent,
  'redemption.refunded': RedemptionRefundedEvent,
  'redemption.failed': RedemptionFailedEvent,
  'vesting.released': VestingReleasedEvent,
  'vesting.stalled': VestingStalledEvent,
  'vesting.completed': VestingCompletedEvent,
  'vesting.revoked': VestingRevokedEvent,
  'reconciliation.mismatch': ReconciliationMismatchEvent,
  'webhook.test': WebhookTestEvent,
  'endpoint.disabled': EndpointDisabledEvent,
} as const satisfies Record<(typeof WEBHOOK_EVENT_TYPES)[number], unknown>;
