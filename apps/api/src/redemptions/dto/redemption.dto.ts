import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength } from 'class-validator';
import {
  CATALOG_FULFILMENTS,
  REDEMPTION_CHAIN_STATES,
  REDEMPTION_FAILURE_TYPES,
  REDEMPTION_REFUND_REASONS,
  REDEMPTION_STATUSES,
  REDEMPTION_STOCK_STATES,
} from '@nova/domain';
import { PageOf, PageQuery } from '../../common/pagination';
import { ACCOUNT_PATTERN, IsStellarAccount } from '../../common/validators';

const WALLET_EXAMPLE = 'GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H';

export class CreateQuoteRequest {
  @ApiProperty({ format: 'uuid', description: 'An active item of your catalog with a unit available' })
  @IsUUID('4', { message: 'itemId must be a UUID' })
  itemId!: string;

  @ApiProperty({
    example: WALLET_EXAMPLE,
    pattern: ACCOUNT_PATTERN,
    description: 'The holder redeeming: a Stellar account with the NOVA trustline and at least the price',
  })
  @IsStellarAccount()
  walletAddress!: string;
}

export class QuoteView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) itemId!: string;
  @ApiProperty({ example: WALLET_EXAMPLE, pattern: ACCOUNT_PATTERN }) walletAddress!: string;
  @ApiProperty({ example: '25.0000000', description: 'NOVA, as the item was priced when quoted' }) price!: string;
  @ApiProperty({ example: 'GD7...', description: 'Where the payment goes: the redemption account' })
  destination!: string;
  @ApiProperty({
    format: 'date-time',
    description: 'The transaction’s upper time bound: submit the signed transaction before it',
  })
  expiresAt!: string;
  @ApiProperty({
    description:
      'The unsigned transaction (base64 XDR): a payment of the price from the holder, with the holder’s next sequence number, time bounds ending at expiresAt and a memo naming the quote. The holder signs it as it is (any Stellar wallet, e.g. Freighter’s signTransaction).',
  })
  transactionXdr!: string;
  @ApiProperty({ example: 'Test SDF Network ; September 2015' }) networkPassphrase!: string;
  @ApiProperty({ description: 'The transaction’s hash: the same for every signed copy of it' }) txHash!: string;
}

export class CreateRedemptionRequest {
  @ApiProperty({ format: 'uuid', description: 'A quote of yours that has not expired or been used' })
  @IsUUID('4', { message: 'quoteId must be a UUID' })
  quoteId!: string;

  @ApiProperty({
    description:
      'The quoted transaction signed by the holder (base64 XDR): exactly as quoted, signatures added, nothing else changed',
    maxLength: 20_000,
  })
  @IsString({ message: 'signedTransactionXdr must be a string' })
  @MinLength(1, { message: 'signedTransactionXdr must not be empty' })
  @MaxLength(20_000, { message: 'signedTransactionXdr must be at most 20000 characters' })
  signedTransactionXdr!: string;
}

export class RejectRedemptionRequest {
  @ApiProperty({ example: 'out of this colour', description: 'Why; shown in the redemption and its event' })
  @IsString({ message: 'reason must be a string' })
  @MinLength(1, { message: 'reason must not be empty' })
  @Matches(/\S/, { message: 'reason must not be blank' })
  @MaxLength(500, { message: 'reason must be at most 500 characters' })
  reason!: string;
}

export class RedemptionFailureView {
  @ApiProperty({ enum: REDEMPTION_FAILURE_TYPES, example: 'HolderUnderfunded' }) type!: string;
  @ApiProperty() message!: string;
}

export class RedemptionRefundView {
  @ApiProperty({ enum: REDEMPTION_REFUND_REASONS }) reason!: string;
  @ApiProperty({ description: 'The merchant’s reason, or what passed' }) message!: string;
}

export class RedemptionLinks {
  @ApiProperty({ example: '/v1/redemptions/8a1f...' }) self!: string;
  @ApiProperty({ example: 'http://127.0.0.1:8233/namespaces/default/workflows/redemption%2F8a1f...' })
  temporalUi!: string;
}

export class RedemptionView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: REDEMPTION_STATUSES, example: 'fulfilled' }) status!: string;
  @ApiProperty({ format: 'uuid' }) quoteId!: string;
  @ApiProperty({ format: 'uuid' }) itemId!: string;
  @ApiProperty({ example: WALLET_EXAMPLE, pattern: ACCOUNT_PATTERN }) walletAddress!: string;
  @ApiProperty({ example: '25.0000000' }) price!: string;
  @ApiProperty({ enum: CATALOG_FULFILMENTS }) fulfilment!: string;
  @ApiProperty({ enum: REDEMPTION_STOCK_STATES, description: 'The item’s unit: reserved, consumed or released' })
  stock!: string;
  @ApiProperty({ enum: REDEMPTION_CHAIN_STATES, description: 'The redemption contract’s record' })
  onChain!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The holder’s payment' }) paymentTxHash!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The refund, if any' }) refundTxHash!: string | null;
  @ApiProperty({ type: RedemptionRefundView, nullable: true }) refund!: RedemptionRefundView | null;
  @ApiProperty({ type: RedemptionFailureView, nullable: true }) failure!: RedemptionFailureView | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Set when a compensation could not complete: what is left for an operator',
  })
  alert!: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'A manual item paid: refunded unless fulfilled by then',
  })
  fulfilmentDeadline!: string | null;
  @ApiProperty({ example: 'redemption/8a1f...' }) workflowId!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: RedemptionLinks }) links!: RedemptionLinks;
}

export class RedemptionPage extends PageOf(RedemptionView) {}

export class AdminRedemptionView extends RedemptionView {
  @ApiProperty({ format: 'uuid' }) merchantId!: string;
}

export class AdminRedemptionPage extends PageOf(AdminRedemptionView) {}

class RedemptionFilters extends PageQuery {
  @ApiPropertyOptional({ enum: REDEMPTION_STATUSES })
  @IsOptional()
  @IsIn(REDEMPTION_STATUSES, { message: `status must be one of ${REDEMPTION_STATUSES.join(', ')}` })
  status?: string;
}

export class RedemptionListQuery extends RedemptionFilters {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('4', { message: 'itemId must be a UUID' })
  itemId?: string;

  @ApiPropertyOptional({ pattern: ACCOUNT_PATTERN, example: WALLET_EXAMPLE })
  @IsOptional()
  @IsStellarAccount()
  walletAddress?: string;
}

export class AdminRedemptionListQuery extends RedemptionFilters {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('4', { message: 'merchantId must be a UUID' })
  merchantId?: string;
}
