import { randomUUID } from 'node:crypto';
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { PrismaClient, type ApiKey } from '@nova/db';
import { generateApiKey } from '../auth/api-keys';
import type { ApiKeyView, CreatedApiKeyView } from './dto/api-key.dto';

/** A fresh key: the row to store (secret hashed) and the key to show once. */
export interface NewApiKey {
  record: { id: string; prefix: string; secretHash: string; label: string | null };
  key: string;
}

export function newApiKey(label: string | null): NewApiKey {
  const { prefix, secretHash, key } = generateApiKey();
  return { record: { id: randomUUID(), prefix, secretHash, label }, key };
}

export function createdApiKeyView(row: ApiKey, key: string): CreatedApiKeyView {
  return { id: row.id, key, prefix: row.prefix, label: row.label, createdAt: row.createdAt.toISOString() };
}

export function apiKeyView(row: ApiKey): ApiKeyView {
  return {
    id: row.id,
    prefix: row.prefix,
    label: row.label,
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

@Injectable()
export class ApiKeysService {
  constructor(@Inject(PrismaClient) private readonly db: PrismaClient) {}

  async create(merchantId: string, label: string | null): Promise<CreatedApiKeyView> {
    const merchant = await this.db.merchant.findUnique({ where: { id: merchantId }, select: { id: true } });
    if (!merchant) throw new NotFoundException(`merchant ${merchantId} not found`);
    const { record, key } = newApiKey(label);
    const row = await this.db.apiKey.create({ data: { ...record, merchantId } });
    return createdApiKeyView(row, key);
  }

  /**
   * Revokes a key; the merchant guard reads revokedAt on every request, so the key stops
   * working at once. Revoking a revoked key succeeds and keeps the first revocation time.
   */
  async revoke(id: string): Promise<void> {
    const { count } = await this.db.apiKey.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (count > 0) return;
    const existing = await this.db.apiKey.findUnique({ where: { id }, select: { id: true } });
    if (!existing) throw new NotFoundException(`API key ${id} not found`);
  }
}
