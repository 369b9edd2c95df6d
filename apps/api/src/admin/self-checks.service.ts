import { randomUUID } from 'node:crypto';
import { Inject, Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { PrismaClient, type SelfCheck } from '@nova/db';
import type { ApiConfig } from '@nova/config';
import { selfCheckWorkflowId, temporalUiLink } from '@nova/domain';
import { searchAttributes, selfCheckWorkflowType } from '@nova/workflows/definitions';
import { InjectConfig } from '../config/config.module';
import type { SelfCheckView } from './dto/self-check.dto';

@Injectable()
export class SelfChecksService {
  constructor(
    @Inject(PrismaClient) private readonly db: PrismaClient,
    @Inject(Client) private readonly temporal: Client,
    @InjectConfig() private readonly config: ApiConfig,
  ) {}

  /** Records the request, then starts its workflow; the worker completes the record. */
  async start(requestId: string): Promise<SelfCheckView> {
    const id = randomUUID();
    const workflowId = selfCheckWorkflowId(id);
    const row = await this.db.selfCheck.create({ data: { id, workflowId, requestId } });
    try {
      await this.temporal.workflow.start(selfCheckWorkflowType, {
        workflowId,
        taskQueue: this.config.temporal.taskQueue,
        args: [{ selfCheckId: id }],
        memo: { requestId },
        typedSearchAttributes: [{ key: searchAttributes.requestId, value: requestId }],
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) {
        await this.db.selfCheck.update({ where: { id }, data: { status: 'not-started' } });
        throw new ServiceUnavailableException(`Temporal did not accept the workflow: ${(error as Error).message}`);
      }
    }
    return this.toView(row);
  }

  async get(id: string): Promise<SelfCheckView> {
    const row = await this.db.selfCheck.findUnique({ where: { id } });
    if (!row) throw new NotFoundException(`self-check ${id} not found`);
    return this.toView(row);
  }

  private toView(row: SelfCheck): SelfCheckView {
    return {
      id: row.id,
      status: row.status,
      workflowId: row.workflowId,
      requestId: row.requestId,
      workerIdentity: row.workerIdentity,
      createdAt: row.createdAt.toISOString(),
      completedAt: row.completedAt?.toISOString() ?? null,
      links: {
        self: `/v1/admin/self-checks/${row.id}`,
        temporalUi: temporalUiLink(this.config.temporal, row.workflowId),
      },
    };
  }
}
