import { Inject, Injectable } from '@nestjs/common';
import type { Issuance } from '@nova/db';
import type { ApiConfig } from '@nova/config';
import { WorkflowHandoffs } from '@nova/workflows/client';
import { InjectConfig } from '../config/config.module';

/** Starts issuance workflow runs: the first one, and admin replays (new runs of the same id). */
@Injectable()
export class IssuanceWorkflows {
  constructor(
    @Inject(WorkflowHandoffs) private readonly handoffs: WorkflowHandoffs,
    @InjectConfig() private readonly config: ApiConfig,
  ) {}

  /** The first run; Temporal refuses it when the id ever had a run ('already-started'). */
  async startFirstRun(issuance: Issuance): Promise<'started' | 'already-started'> {
    return await this.handoffs.startFirstIssuanceRun(issuance);
  }

  /** A new run of a failed issuance; 'already-open' when one is open (or the last one succeeded). */
  async replay(issuance: Issuance, run: number): Promise<'started' | 'already-open'> {
    return await this.handoffs.replayIssuance(issuance, run);
  }

  /** Where the resources' Web UI links point. */
  get temporalUi(): { uiUrl: string; namespace: string } {
    return this.config.temporal;
  }
}
