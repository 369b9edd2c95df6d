import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class SelfCheckLinks {
  @ApiProperty({ example: '/v1/admin/self-checks/0b9d...' }) self!: string;
  @ApiProperty({ example: 'http://127.0.0.1:8233/namespaces/default/workflows/self-check%2F0b9d...' })
  temporalUi!: string;
}

export class SelfCheckView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['started', 'completed'] }) status!: string;
  @ApiProperty({ example: 'self-check/0b9d...' }) workflowId!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) requestId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'The worker that ran the activity' })
  workerIdentity!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) completedAt!: string | null;
  @ApiProperty({ type: SelfCheckLinks }) links!: SelfCheckLinks;
}
