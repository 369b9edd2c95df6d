import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsNotEmpty, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';

const trim = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);

export class ApiKeyIdParams {
  @ApiProperty({ format: 'uuid', description: 'The API key id' })
  @IsUUID('4', { message: 'id must be a UUID' })
  id!: string;
}

export class CreateApiKeyRequest {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    minLength: 1,
    maxLength: 100,
    example: 'checkout server',
    description: 'What the key is for (null or absent: no label)',
  })
  @IsOptional()
  @Transform(trim)
  @IsString({ message: 'label must be a string' })
  @IsNotEmpty({ message: 'label must not be empty' })
  @MaxLength(100, { message: 'label must be at most 100 characters' })
  label?: string;
}

/** A key as returned at creation: the only time `key` is ever shown. */
export class CreatedApiKeyView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({
    example: 'nk_q1w2e3r4t5y6.0123456789abcdefghijklmnopqrstuvwxyzABCDEFG',
    description: 'The secret API key; shown only in this response, store it now',
  })
  key!: string;
  @ApiProperty({ example: 'q1w2e3r4t5y6', description: 'Public part of the key, safe to log' }) prefix!: string;
  @ApiProperty({ type: String, nullable: true, example: 'checkout server' }) label!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

/** A key as listed afterwards: never the secret. */
export class ApiKeyView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'q1w2e3r4t5y6' }) prefix!: string;
  @ApiProperty({ type: String, nullable: true, example: 'checkout server' }) label!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt!: string | null;
}
