/** The sandbox's entry records as the network's XDR (RPC getLedgerEntries, transaction meta). */
import { Asset, Keypair, StrKey, xdr } from '@stellar/stellar-sdk';
import {
  accountKey,
  trustlineKey,
  type AccountEntryRecord,
  type EntryChange,
  type EntryRecord,
  type TrustlineEntryRecord,
} from './ledger-state';

const accountIds = new Map<string, xdr.AccountId>();

/** Cached: StrKey decoding (base32 + CRC) dominated meta generation when a ledger closes. */
export function accountIdXdr(accountId: string): xdr.AccountId {
  let id = accountIds.get(accountId);
  if (!id) {
    id = Keypair.fromPublicKey(accountId).xdrAccountId();
    if (accountIds.size > 100_000) accountIds.clear();
    accountIds.set(accountId, id);
  }
  return id;
}

export function accountIdFromXdr(accountId: xdr.AccountId): string {
  return StrKey.encodeEd25519PublicKey(accountId.ed25519());
}

function trustLineAssetXdr(code: string, issuer: string): xdr.TrustLineAsset {
  return new Asset(code, issuer).toTrustLineXDRObject();
}

export function entryDataXdr(entry: EntryRecord): xdr.LedgerEntryData {
  return entry.type === 'account' ? accountDataXdr(entry) : trustlineDataXdr(entry);
}

function accountDataXdr(entry: AccountEntryRecord): xdr.LedgerEntryData {
  return xdr.LedgerEntryData.account(
    new xdr.AccountEntry({
      accountId: accountIdXdr(entry.accountId),
      balance: new xdr.Int64(entry.balance),
      seqNum: new xdr.Int64(entry.seqNum),
      numSubEntries: entry.numSubEntries,
      inflationDest: null,
      flags: 0,
      homeDomain: '',
      // master weight 1, thresholds 0/0/0: the only signer is the master key.
      thresholds: Buffer.from([1, 0, 0, 0]),
      signers: [],
      ext: new xdr.AccountEntryExt(0),
    }),
  );
}

function trustlineDataXdr(entry: TrustlineEntryRecord): xdr.LedgerEntryData {
  return xdr.LedgerEntryData.trustline(
    new xdr.TrustLineEntry({
      accountId: accountIdXdr(entry.accountId),
      asset: trustLineAssetXdr(entry.assetCode, entry.assetIssuer),
      balance: new xdr.Int64(entry.balance),
      limit: new xdr.Int64(entry.limit),
      flags: entry.flags,
      ext: new xdr.TrustLineEntryExt(0),
    }),
  );
}

export function ledgerEntryXdr(entry: EntryRecord): xdr.LedgerEntry {
  return new xdr.LedgerEntry({
    lastModifiedLedgerSeq: entry.lastModifiedLedger,
    data: entryDataXdr(entry),
    ext: new xdr.LedgerEntryExt(0),
  });
}

export function ledgerKeyXdr(entry: EntryRecord): xdr.LedgerKey {
  if (entry.type === 'account') {
    return xdr.LedgerKey.account(new xdr.LedgerKeyAccount({ accountId: accountIdXdr(entry.accountId) }));
  }
  return xdr.LedgerKey.trustline(
    new xdr.LedgerKeyTrustLine({
      accountId: accountIdXdr(entry.accountId),
      asset: trustLineAssetXdr(entry.assetCode, entry.assetIssuer),
    }),
  );
}

/** The store key of an account or trustline LedgerKey; undefined for kinds the sandbox does not hold. */
export function storeKeyFromLedgerKey(key: xdr.LedgerKey): string | undefined {
  switch (key.switch().name) {
    case 'account':
      return accountKey(accountIdFromXdr(key.account().accountId()));
    case 'trustline': {
      const line = key.trustLine();
      const asset = line.asset();
      const name = asset.switch().name;
      if (name !== 'assetTypeCreditAlphanum4' && name !== 'assetTypeCreditAlphanum12') return undefined;
      const alpha = name === 'assetTypeCreditAlphanum4' ? asset.alphaNum4() : asset.alphaNum12();
      const code = alpha.assetCode().toString('latin1').replace(/\0+$/, '');
      return trustlineKey(accountIdFromXdr(line.accountId()), code, accountIdFromXdr(alpha.issuer()));
    }
    default:
      return undefined;
  }
}

/** Entry changes as core writes them in meta: STATE before UPDATED/REMOVED, CREATED alone. */
export function entryChangesXdr(changes: readonly EntryChange[]): xdr.LedgerEntryChange[] {
  const out: xdr.LedgerEntryChange[] = [];
  for (const change of changes) {
    if (change.before && change.after) {
      out.push(xdr.LedgerEntryChange.ledgerEntryState(ledgerEntryXdr(change.before)));
      out.push(xdr.LedgerEntryChange.ledgerEntryUpdated(ledgerEntryXdr(change.after)));
    } else if (change.after) {
      out.push(xdr.LedgerEntryChange.ledgerEntryCreated(ledgerEntryXdr(change.after)));
    } else if (change.before) {
      out.push(xdr.LedgerEntryChange.ledgerEntryState(ledgerEntryXdr(change.before)));
      out.push(xdr.LedgerEntryChange.ledgerEntryRemoved(ledgerKeyXdr(change.before)));
    }
  }
  return out;
}
