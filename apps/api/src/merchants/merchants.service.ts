import { randomUUID } from 'node:crypto';
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { PrismaClient, type Merchant } from '@nova/db';
import { apiKeyView, createdApiKeyView, newApiKey } from '../api-keys/api-keys.service';
import type { CreatedMerchantView, MerchantDetailView, MerchantView } from './dto/merchant.dto';

function merchantView(row: Merchant): MerchantView {
  return { id: row.id, name: row.name, createdAt: row.createdAt.toISOString() };
}

@Injectable()
export class MerchantsService {
  constructor(@Inject(PrismaClient) private readonly db: PrismaClient) {}

  /** The merchant and its first API key, in one statement: never a merchant without a key. */
  async create(name: string): Promise<CreatedMerchantView> {
    const { record, key } = newApiKey(null);
    const row = await this.db.merchant.create({
      data: { id: randomUUID(), name, apiKeys: { create: record } },
      include: { apiKeys: true },
    });
    const apiKey = row.apiKeys[0];
    if (!apiKey) throw new Error(`merchant ${row.id} was created without its API key`);
    return { merchant: merchantView(row), apiKey: createdApiKeyView(apiKey, key) };
  }

  async get(id: string): Promise<MerchantDetailView> {
    const row = await this.db.merchant.findUnique({
      where: { id },
      include: { apiKeys: { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] } },
    });
    if (!row) throw new NotFoundException(`merchant ${id} not found`);
    return { ...merchantView(row), apiKeys: row.apiKeys.map(apiKeyView) };
  }
}
