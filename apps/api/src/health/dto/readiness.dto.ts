import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class DependencyStatusView {
  @ApiProperty({ enum: ['up', 'down'], example: 'up' }) status!: 'up' | 'down';
  @ApiProperty({ type: 'integer', example: 3, description: 'How long the probe took' }) latencyMs!: number;
  @ApiPropertyOptional({
    example: 'workflow and activity pollers seen',
    description: 'What was seen, or why it is down',
  })
  detail?: string;
}

export class ReadinessChecksView {
  @ApiProperty({ type: DependencyStatusView }) database!: DependencyStatusView;
  @ApiProperty({ type: DependencyStatusView }) temporal!: DependencyStatusView;
  @ApiProperty({ type: DependencyStatusView, description: 'A worker polls the task queue' })
  worker!: DependencyStatusView;
  @ApiProperty({ type: DependencyStatusView, description: 'Horizon answers, on the configured network' })
  stellar!: DependencyStatusView;
}

export class ReadinessView {
  @ApiProperty({ enum: ['ready', 'not-ready'], example: 'ready' }) status!: 'ready' | 'not-ready';
  @ApiProperty({ type: ReadinessChecksView }) checks!: ReadinessChecksView;
}

export class LivenessView {
  @ApiProperty({ enum: ['ok'], example: 'ok' }) status!: 'ok';
}
