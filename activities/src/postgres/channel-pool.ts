import type { PrismaClient } from '@nova/db';
import type { Clock } from '../clock';
import type { ChannelPool } from '../stellar/journal';

/**
 * Channel leases in PostgreSQL, so every worker process shares one view of the pool.
 * A lease is taken with FOR UPDATE SKIP LOCKED (no two callers get the same channel) and
 * lapses by itself at lease_expires_at if its holder crashed.
 */
export class PrismaChannelPool implements ChannelPool {
  constructor(
    private readonly db: PrismaClient,
    private readonly clock: Clock,
    /** The channels this process can sign for: only these are leased. */
    private readonly publicKeys: readonly string[],
  ) {}

  /** Makes sure every configured channel has a row (idempotent; run at worker start). */
  async register(): Promise<void> {
    await this.db.channelAccount.createMany({
      data: this.publicKeys.map((publicKey) => ({ publicKey })),
      skipDuplicates: true,
    });
  }

  async lease(holder: string, until: Date): Promise<string | undefined> {
    const now = this.clock.now();
    const rows = await this.db.$queryRaw<{ public_key: string }[]>`
      UPDATE channel_accounts
         SET lease_holder = ${holder}, lease_expires_at = ${until}, leased_count = leased_count + 1
       WHERE public_key = (
         SELECT public_key FROM channel_accounts
          WHERE public_key = ANY(${[...this.publicKeys]}::text[])
            AND (lease_holder IS NULL OR lease_expires_at < ${now})
          ORDER BY lease_expires_at NULLS FIRST, leased_count
          LIMIT 1
          FOR UPDATE SKIP LOCKED)
      RETURNING public_key`;
    return rows[0]?.public_key;
  }

  /**
   * Frees whatever `holder` holds in channel_accounts, whichever pool leased it: the journal
   * releases every transaction's lease (a channel's, or the contract calls' source account) by
   * the transaction's id through one pool.
   */
  async release(holder: string): Promise<void> {
    await this.db.$executeRaw`
      UPDATE channel_accounts SET lease_holder = NULL, lease_expires_at = NULL WHERE lease_holder = ${holder}`;
  }
}
