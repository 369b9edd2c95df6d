import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { Prisma, PrismaClient } from '@nova/db';
import { pageSize, type Page } from '../common/pagination';
import type { ContractEventListQuery, ContractEventView } from './dto/contract-event.dto';
import { aboutMerchant } from './merchant-resources';

interface ContractEventRow {
  id: string;
  contract: string;
  contractId: string;
  type: string;
  resourceId: string | null;
  ledger: number;
  ledgerClosedAt: Date;
  txHash: string;
  payload: Record<string, string | number | boolean>;
  topicXdr: string[];
  valueXdr: string;
}

const EVENT_ID = /^\d{19}-\d{10}$/;

function invalidCursor(): BadRequestException {
  const message = 'cursor must be the nextCursor of a previous page';
  return new BadRequestException({ message, details: [{ field: 'cursor', messages: [message] }] });
}

/** Contract events are paged in the chain's order: the cursor is the last event's id. */
function encodeEventCursor(id: string): string {
  return Buffer.from(JSON.stringify([id])).toString('base64url');
}

function decodeEventCursor(cursor: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== 1 || typeof parsed[0] !== 'string' || !EVENT_ID.test(parsed[0])) {
    throw invalidCursor();
  }
  return parsed[0];
}

/**
 * The indexed contract events (contract_events, written by the contract indexers), oldest first
 * in the chain's order, so a reader pages forward from where it stopped. A merchant sees the
 * events about its own campaigns, redemptions and vesting schedules (the resource id each event
 * carries, looked up in the resource's table); the admin sees all.
 */
@Injectable()
export class ContractEventsService {
  constructor(@Inject(PrismaClient) private readonly db: PrismaClient) {}

  async list(scope: { merchantId: string } | 'all', query: ContractEventListQuery): Promise<Page<ContractEventView>> {
    const size = pageSize(query);
    const conditions: Prisma.Sql[] = [];
    if (query.contract) conditions.push(Prisma.sql`e.contract = ${query.contract}`);
    if (query.type) conditions.push(Prisma.sql`e.type = ${query.type}`);
    if (query.since) conditions.push(Prisma.sql`e.ledger_closed_at >= ${new Date(query.since)}`);
    if (query.cursor) conditions.push(Prisma.sql`e.id > ${decodeEventCursor(query.cursor)}`);
    if (scope !== 'all') {
      conditions.push(Prisma.sql`(${aboutMerchant(scope.merchantId)})`);
    }
    const where = conditions.length > 0 ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty;
    const rows = await this.db.$queryRaw<ContractEventRow[]>(Prisma.sql`
      SELECT e.id, e.contract, e.contract_id AS "contractId", e.type, e.resource_id AS "resourceId", e.ledger,
             e.ledger_closed_at AS "ledgerClosedAt", e.tx_hash AS "txHash", e.payload, e.topic_xdr AS "topicXdr",
             e.value_xdr AS "valueXdr"
      FROM contract_events e
      ${where}
      ORDER BY e.id
      LIMIT ${size + 1}`);
    const items = rows.slice(0, size);
    const last = items[items.length - 1];
    return {
      data: items.map((row) => ({
        id: row.id,
        contract: row.contract,
        contractId: row.contractId,
        type: row.type,
        resourceId: row.resourceId,
        ledger: row.ledger,
        ledgerClosedAt: new Date(row.ledgerClosedAt).toISOString(),
        txHash: row.txHash,
        payload: row.payload,
        topicXdr: row.topicXdr ?? [],
        valueXdr: row.valueXdr,
      })),
      nextCursor: rows.length > size && last ? encodeEventCursor(last.id) : null,
    };
  }
}
