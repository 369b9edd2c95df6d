import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsNotEmpty, IsString, IsUUID, MaxLength } from 'class-validator';
import { ApiKeyView, CreatedApiKeyView } from '../../api-keys/dto/api-key.dto';

export class MerchantIdParams {
  @ApiProperty({ format: 'uuid', description: 'The merchant id' })
  @IsUUID('4', { message: 'id must be a UUID' })
  id!: string;
}

export class CreateMerchantRequest {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Blue Bottle Coffee' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString({ message: 'name must be a string' })
  @IsNotEmpty({ message: 'name must not be empty' })
  @MaxLength(200, { message: 'name must be at most 200 characters' })
  name!: string;
}

export class MerchantView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'Blue Bottle Coffee' }) name!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class CreatedMerchantView {
  @ApiProperty({ type: MerchantView }) merchant!: MerchantView;
  @ApiProperty({ type: CreatedApiKeyView, description: "The merchant's first API key, shown only here" })
  apiKey!: CreatedApiKeyView;
}

export class MerchantDetailView extends MerchantView {
  @ApiProperty({ type: ApiKeyView, isArray: true, description: 'Every key, newest first, revoked ones included' })
  apiKeys!: ApiKeyView[];
}
