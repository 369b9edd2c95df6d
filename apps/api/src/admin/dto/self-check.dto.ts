import { ApiProperty } from '@nestjs/swagger';

export class SelfCheckLinks {
  @ApiProperty({ example: '/v1/admin/self-checks/0b9d...' }) self!: string;
  @ApiProperty({ example: 'http://127.0.0.1:8233/namespaces/default/workflows/self-check%2F0b9d...' })
  temporalUi!: string;
}

export class SelfCheckView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['started', 'completed'], example: 'completed' }) status!: string;
  @ApiProperty({ example: 'self-check/0b9d...' }) workflowId!: string;
  @ApiProperty({ nullable: true, type: String, example: 'b9d3f0c2-6a4e-4d1f-8e7a-3c2b1a0f9e8d' })
  requestId!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'The worker that ran the activity',
    example: 'nova-worker@host/4242',
  })
  workerIdentity!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) completedAt!: string | null;
  @ApiProperty({ type: SelfCheckLinks }) links!: SelfCheckLinks;
}
