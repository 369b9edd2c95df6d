import { Module } from '@nestjs/common';
import { ReconciliationsController } from './reconciliations.controller';
import { ReconciliationsService } from './reconciliations.service';
import { SelfChecksController } from './self-checks.controller';
import { SelfChecksService } from './self-checks.service';

@Module({
  controllers: [SelfChecksController, ReconciliationsController],
  providers: [SelfChecksService, ReconciliationsService],
})
export class AdminModule {}
