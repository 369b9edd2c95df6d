import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/client/client';

export { PrismaClient };
export type {
  ApiKey,
  CatalogItem,
  Campaign,
  CampaignChainChange,
  ChannelAccount,
  ContractEvent,
  ContractEventCursor,
  ContractEventGap,
  Issuance,
  JournalAttempt,
  JournalItem,
  JournalTransaction,
  Merchant,
  OutboxEvent,
  Redemption,
  RedemptionQuote,
  Reconciliation,
  ReconciliationMismatch,
  SelfCheck,
  VestingRelease,
  VestingSchedule,
  WebhookAttempt,
  WebhookDelivery,
  WebhookEndpoint,
} from '../generated/client/client';
export { Prisma } from '../generated/client/client';

/** One client per process; the pg pool is sized for the process role (API or worker). */
export function createPrismaClient(options: { databaseUrl: string; poolSize?: number }): PrismaClient {
  const adapter = new PrismaPg({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
  return new PrismaClient({ adapter });
}
export { listenForNotifications, type ListenOptions, type NotificationConnection } from './notifications';
