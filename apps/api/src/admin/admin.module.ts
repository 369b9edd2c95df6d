import { Module } from '@nestjs/common';
import { AdminGuard } from '../auth/admin.guard';
import { SelfChecksController } from './self-checks.controller';
import { SelfChecksService } from './self-checks.service';

@Module({
  controllers: [SelfChecksController],
  providers: [SelfChecksService, AdminGuard],
})
export class AdminModule {}
