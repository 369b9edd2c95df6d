import { Module } from '@nestjs/common';
import { AdminContractEventsController, ContractEventsController } from './contract-events.controller';
import { ContractEventsService } from './contract-events.service';

@Module({
  controllers: [ContractEventsController, AdminContractEventsController],
  providers: [ContractEventsService],
})
export class ContractEventsModule {}
