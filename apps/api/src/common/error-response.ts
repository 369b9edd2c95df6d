import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldError {
  @ApiProperty({ example: 'walletAddress' }) field!: string;
  @ApiProperty({ example: ['walletAddress must be a Stellar account address (G...)'] }) messages!: string[];
}

/** The one shape every error response has. */
export class ErrorResponse {
  @ApiProperty({ example: 400 }) statusCode!: number;
  @ApiProperty({ example: 'Bad Request' }) error!: string;
  @ApiProperty({ example: 'walletAddress must be a Stellar account address (G...)' }) message!: string;
  @ApiPropertyOptional({ type: [FieldError] }) details?: FieldError[] | Record<string, unknown>;
}
