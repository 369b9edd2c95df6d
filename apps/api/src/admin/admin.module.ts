import { Module } from '@nestjs/common';
import { SelfChecksController } from './self-checks.controller';
import { SelfChecksService } from './self-checks.service';

@Module({
  controllers: [SelfChecksController],
  providers: [SelfChecksService],
})
export class AdminModule {}
