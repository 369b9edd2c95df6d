import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { Horizon, NotFoundError } from '@stellar/stellar-sdk';
import { toStroops, type RedemptionRefusal } from '@nova/domain';
import type { ApiConfig } from '@nova/config';
import { InjectConfig } from '../config/config.module';

/** What a quote needs of the holder's account, read from Horizon. */
export type HolderAccount =
  | { status: 'ok'; sequence: bigint; balanceStroops: bigint }
  | { status: Extract<RedemptionRefusal, 'AccountNotFound' | 'TrustlineMissing' | 'TrustlineNotAuthorized'> };

/**
 * Reads holders' accounts for quotes: the sequence number the quoted transaction uses and the
 * NOVA trustline and balance it spends. Reads only: the API builds unsigned transactions and
 * never holds a key; everything the platform signs and submits goes through the worker's journal.
 */
@Injectable()
export class HolderAccounts {
  private readonly horizon: Horizon.Server;

  constructor(@InjectConfig() private readonly config: ApiConfig) {
    const { horizonUrl } = config.stellar;
    this.horizon = new Horizon.Server(horizonUrl, { allowHttp: horizonUrl.startsWith('http://') });
    this.horizon.httpClient.defaults.timeout = 5_000;
  }

  async read(address: string): Promise<HolderAccount> {
    let account: Horizon.AccountResponse;
    try {
      account = await this.horizon.loadAccount(address);
    } catch (error) {
      if (error instanceof NotFoundError) return { status: 'AccountNotFound' };
      throw new ServiceUnavailableException({
        message: `Horizon did not answer for ${address}: ${(error as Error).message}; try again`,
      });
    }
    const { assetCode, assetIssuer } = this.config.stellar;
    const line = account.balances.find(
      (b) =>
        (b.asset_type === 'credit_alphanum4' || b.asset_type === 'credit_alphanum12') &&
        b.asset_code === assetCode &&
        b.asset_issuer === assetIssuer,
    ) as Horizon.HorizonApi.BalanceLineAsset | undefined;
    if (!line) return { status: 'TrustlineMissing' };
    if (line.is_authorized === false) return { status: 'TrustlineNotAuthorized' };
    // What the holder can spend: the balance less what open offers to sell hold.
    const spendable = toStroops(line.balance) - toStroops(line.selling_liabilities ?? '0');
    return { status: 'ok', sequence: BigInt(account.sequenceNumber()) + 1n, balanceStroops: spendable };
  }
}
