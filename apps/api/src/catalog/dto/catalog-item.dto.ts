import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { CATALOG_FULFILMENTS, type CatalogFulfilment, type CatalogItemResource } from '@nova/domain';
import { PageOf, PageQuery } from '../../common/pagination';
import { AMOUNT_PATTERN, IsStellarAmount } from '../../common/validators';

/** The stock column is a PostgreSQL integer. */
export const MAX_STOCK = 2_147_483_647;
const STOCK_MESSAGE = `stock must be a whole number from 0 to ${MAX_STOCK}, or null for unlimited`;
const FULFILMENT_MESSAGE = `fulfilment must be one of: ${CATALOG_FULFILMENTS.join(', ')}`;

const trim = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);
// Absent means "unchanged" (or the default); null is not a value these fields can take.
const present = (_request: object, value: unknown): boolean => value !== undefined;
// Query strings carry text: only the words true and false are booleans, anything else stays and is refused.
const queryBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

export class CatalogItemIdParams {
  @ApiProperty({ format: 'uuid', description: 'The catalog item id' })
  @IsUUID('4', { message: 'id must be a UUID' })
  id!: string;
}

export class CreateCatalogItemRequest {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Free coffee' })
  @Transform(trim)
  @IsString({ message: 'name must be a string' })
  @IsNotEmpty({ message: 'name must not be empty' })
  @MaxLength(200, { message: 'name must be at most 200 characters' })
  name!: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 2000, example: 'Any size, any shop' })
  @IsOptional()
  @IsString({ message: 'description must be a string' })
  @MaxLength(2000, { message: 'description must be at most 2000 characters' })
  description?: string | null;

  @ApiProperty({
    example: '25',
    pattern: AMOUNT_PATTERN,
    description: 'What one unit costs in NOVA (decimal string, more than 0, at most 7 decimals)',
  })
  @IsStellarAmount()
  price!: string;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    minimum: 0,
    maximum: MAX_STOCK,
    example: 100,
    description: 'Units for sale; null for unlimited. Required: send null explicitly for an unlimited item.',
  })
  @ValidateIf((request: CreateCatalogItemRequest) => request.stock !== null)
  @IsInt({ message: STOCK_MESSAGE })
  @Min(0, { message: STOCK_MESSAGE })
  @Max(MAX_STOCK, { message: STOCK_MESSAGE })
  stock!: number | null;

  @ApiProperty({
    enum: CATALOG_FULFILMENTS,
    description: 'automatic: fulfilled as soon as it is paid; manual: you fulfil or reject each redemption',
  })
  @IsIn(CATALOG_FULFILMENTS, { message: FULFILMENT_MESSAGE })
  fulfilment!: CatalogFulfilment;

  @ApiPropertyOptional({ default: true, description: 'Only active items can be quoted' })
  @ValidateIf(present)
  @IsBoolean({ message: 'active must be true or false' })
  active?: boolean;
}

/** Only these fields may change; any other field in the body is a 400 naming it, and so is an empty body. */
export class UpdateCatalogItemRequest {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200, example: 'Free coffee (large)' })
  @ValidateIf(present)
  @Transform(trim)
  @IsString({ message: 'name must be a string' })
  @IsNotEmpty({ message: 'name must not be empty' })
  @MaxLength(200, { message: 'name must be at most 200 characters' })
  name?: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 2000, description: 'null clears it' })
  @IsOptional()
  @IsString({ message: 'description must be a string' })
  @MaxLength(2000, { message: 'description must be at most 2000 characters' })
  description?: string | null;

  @ApiPropertyOptional({
    example: '30',
    pattern: AMOUNT_PATTERN,
    description: 'The price of later quotes; quotes already issued keep the price they were issued with',
  })
  @ValidateIf(present)
  @IsStellarAmount()
  price?: string;

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    minimum: 0,
    maximum: MAX_STOCK,
    example: 50,
    description: 'Units for sale (null: unlimited); not below reserved (else 409 StockBelowReserved)',
  })
  @IsOptional()
  @IsInt({ message: STOCK_MESSAGE })
  @Min(0, { message: STOCK_MESSAGE })
  @Max(MAX_STOCK, { message: STOCK_MESSAGE })
  stock?: number | null;

  @ApiPropertyOptional({
    enum: CATALOG_FULFILMENTS,
    description: 'Applies to redemptions accepted from now on; those in progress keep theirs',
  })
  @ValidateIf(present)
  @IsIn(CATALOG_FULFILMENTS, { message: FULFILMENT_MESSAGE })
  fulfilment?: CatalogFulfilment;

  @ApiPropertyOptional({ description: 'false: no new quotes; redemptions in progress continue' })
  @ValidateIf(present)
  @IsBoolean({ message: 'active must be true or false' })
  active?: boolean;
}

export class CatalogItemListQuery extends PageQuery {
  @ApiPropertyOptional({ type: Boolean, description: 'Only active (true) or inactive (false) items' })
  @IsOptional()
  @Transform(queryBoolean)
  @IsBoolean({ message: 'active must be true or false' })
  active?: boolean;

  @ApiPropertyOptional({ enum: CATALOG_FULFILMENTS })
  @IsOptional()
  @IsIn(CATALOG_FULFILMENTS, { message: FULFILMENT_MESSAGE })
  fulfilment?: CatalogFulfilment;
}

export class CatalogItemLinks {
  @ApiProperty({ example: '/v1/catalog/items/5f0c2a4e-8b1d-4f7e-9a53-2c4d8e9f0a1b' }) self!: string;
}

export class CatalogItemView implements CatalogItemResource {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'Free coffee' }) name!: string;
  @ApiProperty({ type: String, nullable: true, example: 'Any size, any shop' }) description!: string | null;
  @ApiProperty({ example: '25.0000000', description: 'NOVA per unit, 7 decimals' }) price!: string;
  @ApiProperty({ type: 'integer', nullable: true, example: 100, description: 'Units not sold yet; null: unlimited' })
  stock!: number | null;
  @ApiProperty({ type: 'integer', example: 2, description: 'Units held by redemptions in progress' })
  reserved!: number;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 98,
    description: 'What can still be redeemed (stock - reserved); null: unlimited',
  })
  available!: number | null;
  @ApiProperty({ enum: CATALOG_FULFILMENTS }) fulfilment!: string;
  @ApiProperty() active!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: CatalogItemLinks }) links!: CatalogItemLinks;
}

export class CatalogItemPage extends PageOf(CatalogItemView) {}
