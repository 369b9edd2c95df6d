import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { CONTRACT_EVENT_TYPES, INDEXED_CONTRACTS } from '@nova/domain';
import { PageOf, PageQuery } from '../../common/pagination';
import { IsInstant } from '../../common/validators';

export class ContractEventListQuery extends PageQuery {
  @ApiPropertyOptional({ enum: INDEXED_CONTRACTS, description: 'Only this contract’s events' })
  @IsOptional()
  @IsIn(INDEXED_CONTRACTS, { message: `contract must be one of: ${INDEXED_CONTRACTS.join(', ')}` })
  contract?: string;

  @ApiPropertyOptional({ enum: CONTRACT_EVENT_TYPES, description: 'Only events of this type' })
  @IsOptional()
  @IsIn(CONTRACT_EVENT_TYPES, { message: `type must be one of: ${CONTRACT_EVENT_TYPES.join(', ')}` })
  type?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-03-01T00:00:00Z',
    description: 'Only events of ledgers closed at or after this instant',
  })
  @IsOptional()
  @IsInstant()
  since?: string;
}

export class ContractEventView {
  @ApiProperty({
    example: '0000012884905985-0000000001',
    description: 'Soroban RPC’s event id: unique, and in the chain’s order',
  })
  id!: string;
  @ApiProperty({ enum: INDEXED_CONTRACTS }) contract!: string;
  @ApiProperty({ example: 'CDLZFC3SYJYDZT7K67VZ75HPJVIEUVNIXF47ZG2FB2RMQQVU2HHGCYSC' }) contractId!: string;
  @ApiProperty({
    example: 'campaign.registered',
    description: `The event type (${CONTRACT_EVENT_TYPES.join(', ')}), or <contract>.unrecognized for an event the contract’s interface does not define`,
  })
  type!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The campaign, redemption or vesting schedule the event is about (null for initialized)',
  })
  resourceId!: string | null;
  @ApiProperty({ type: 'integer' }) ledger!: number;
  @ApiProperty({ format: 'date-time' }) ledgerClosedAt!: string;
  @ApiProperty({ pattern: '^[0-9a-f]{64}$' }) txHash!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
    example: { merchant: 'GB...', budget: '250.0000000', startsAt: '2026-01-01T00:00:00.000Z' },
    description:
      'The event’s data by field name (camelCase): amounts as decimal NOVA, times as ISO-8601, addresses as strkeys, hashes as hex',
  })
  payload!: Record<string, string | number | boolean>;
  @ApiProperty({ type: String, isArray: true, description: 'The raw topics, base64 ScVal XDR' })
  topicXdr!: string[];
  @ApiProperty({ description: 'The raw value, base64 ScVal XDR' }) valueXdr!: string;
}

export class ContractEventPage extends PageOf(ContractEventView) {}
