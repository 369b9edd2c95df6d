import { Global, Inject, Injectable, Module } from '@nestjs/common';
import type { ApiConfig } from '@nova/config';
import { PrismaClient } from '@nova/db';
import { InjectConfig } from '../config/config.module';
import { fieldError } from './validation';

/**
 * The platform's own Stellar accounts, which no reward or other payment may go to: the asset
 * issuer (a payment to it burns the tokens), the distribution account (it would pay itself)
 * and the channel accounts (the worker's transaction sources, as the pool table lists them).
 * Every payment kind checks its recipient here before it is accepted.
 */
@Injectable()
export class PlatformAccounts {
  constructor(
    @Inject(PrismaClient) private readonly db: PrismaClient,
    @InjectConfig() private readonly config: ApiConfig,
  ) {}

  /** Why `address` cannot receive a payment, or undefined when it can. */
  async refusalFor(address: string): Promise<string | undefined> {
    const { assetIssuer, assetCode, distributionAccount } = this.config.stellar;
    if (address === assetIssuer) return `is the ${assetCode} issuer: a payment to it would burn the tokens`;
    if (address === distributionAccount) return 'is the platform distribution account: it would pay itself';
    const [channel] = await this.db.$queryRaw<{ found: number }[]>`
      SELECT 1 AS found FROM channel_accounts WHERE public_key = ${address}`;
    if (channel) return "is one of the platform's channel accounts, which send payments and never receive them";
    return undefined;
  }

  /** Throws a 400 naming `field` when `address` is one of the platform's accounts. */
  async refuseAsRecipient(field: string, address: string): Promise<void> {
    const refusal = await this.refusalFor(address);
    if (refusal) throw fieldError(field, `${field} ${refusal}`);
  }
}

@Global()
@Module({ providers: [PlatformAccounts], exports: [PlatformAccounts] })
export class PlatformAccountsModule {}
