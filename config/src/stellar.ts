import { readFileSync } from 'node:fs';
import { Keypair, Networks, StrKey } from '@stellar/stellar-sdk';
import { z } from 'zod';
import { ConfigError } from './errors';

/** The local sandbox network's passphrase (apps/stellar-sandbox uses the same default). */
export const SANDBOX_NETWORK_PASSPHRASE = 'Nova Sandbox Network ; 2026';

const NETWORK_DEFAULTS = {
  sandbox: {
    horizonUrl: 'http://127.0.0.1:8000',
    sorobanRpcUrl: 'http://127.0.0.1:8000/soroban/rpc',
    passphrase: SANDBOX_NETWORK_PASSPHRASE,
  },
  testnet: {
    horizonUrl: 'https://horizon-testnet.stellar.org',
    sorobanRpcUrl: 'https://soroban-testnet.stellar.org',
    passphrase: Networks.TESTNET,
  },
  // Mainnet has no SDF-run Soroban RPC: SOROBAN_RPC_URL must name a provider.
  public: { horizonUrl: 'https://horizon.stellar.org', sorobanRpcUrl: undefined, passphrase: Networks.PUBLIC },
} as const;

export const stellarShape = {
  STELLAR_NETWORK: z.enum(['sandbox', 'testnet', 'public']).default('sandbox'),
  HORIZON_URL: z.url({ message: 'must be an http(s) URL' }).optional(),
  SOROBAN_RPC_URL: z.url({ message: 'must be an http(s) URL' }).optional(),
  NETWORK_PASSPHRASE: z.string().min(1).optional(),
  NOVA_ASSET_CODE: z
    .string()
    .regex(/^[A-Za-z0-9]{1,12}$/, 'must be 1-12 letters or digits')
    .default('NOVA'),
  NOVA_ASSET_ISSUER: z
    .string()
    .refine((v) => StrKey.isValidEd25519PublicKey(v), 'must be a Stellar account address (G...)')
    .optional(),
  DISTRIBUTION_ACCOUNT: z
    .string()
    .refine((v) => StrKey.isValidEd25519PublicKey(v), 'must be a Stellar account address (G...)')
    .optional(),
  /** The sandbox's keys.json shape: { issuer, distribution, channels: [{ publicKey, secretKey }] }. */
  STELLAR_KEYS_FILE: z.string().min(1).optional(),
  DISTRIBUTION_SECRET: z.string().optional(),
  DISTRIBUTION_SECRET_FILE: z.string().min(1).optional(),
  CHANNEL_SECRETS: z.string().optional(),
  CHANNEL_SECRETS_FILE: z.string().min(1).optional(),
  CHANNEL_POOL_SIZE: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(1000))
    .default(8),
  STELLAR_TX_TIMEOUT_SECONDS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number of seconds')
    .transform(Number)
    .pipe(z.number().int().min(5, 'must be at least 5 seconds').max(3600))
    .default(30),
  /** The campaign contract (C...). Unset, with no STELLAR_CONTRACTS_FILE either: campaign sync is off. */
  CAMPAIGN_CONTRACT_ID: z
    .string()
    .refine((v) => StrKey.isValidContract(v), 'must be a Soroban contract address (C...)')
    .optional(),
  /** The redemption contract (C...). Unset, with no STELLAR_CONTRACTS_FILE either: redemptions are off. */
  REDEMPTION_CONTRACT_ID: z
    .string()
    .refine((v) => StrKey.isValidContract(v), 'must be a Soroban contract address (C...)')
    .optional(),
  /** The vesting contract (C...). Unset, with no STELLAR_CONTRACTS_FILE either: vesting schedules are off and its events are not indexed. */
  VESTING_CONTRACT_ID: z
    .string()
    .refine((v) => StrKey.isValidContract(v), 'must be a Soroban contract address (C...)')
    .optional(),
  /** The sandbox's contracts.json shape: { campaign: { contractId }, redemption: {...}, vesting: {...} }. */
  STELLAR_CONTRACTS_FILE: z.string().min(1).optional(),
  /** Payments one transaction carries at most (Stellar allows 100 operations); 1: one payment per transaction. */
  PAYMENT_BATCH_SIZE: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(1, 'must be at least 1')
        .max(100, 'must be at most 100 (Stellar operations per transaction)'),
    )
    .default(100),
  STELLAR_MAX_FEE: z
    .string()
    .regex(/^\d+$/, 'must be a whole number of stroops')
    .transform(Number)
    .pipe(z.number().int().min(100, 'must be at least the base fee (100)'))
    .default(10_000),
};

type StellarEnv = z.infer<z.ZodObject<typeof stellarShape>>;

/** What a wallet (and the API's GET /v1/stellar) needs to know about the network. */
export interface StellarNetworkConfig {
  network: 'sandbox' | 'testnet' | 'public';
  horizonUrl: string;
  sorobanRpcUrl: string;
  networkPassphrase: string;
  assetCode: string;
  assetIssuer: string;
  distributionAccount: string;
  transactionTimeoutSeconds: number;
  maxFeePerOperation: number;
  /** Payments batched into one transaction at most (1 to 100); unset: 100. */
  maxPaymentsPerTransaction?: number;
  /**
   * The campaign contract the campaign workflows write to. Absent: campaign sync is off (the
   * API starts no campaign workflow and shows `onChain: null`).
   */
  campaignContractId?: string;
  /**
   * The redemption contract the redemption workflows open, confirm and cancel records on.
   * Absent: redemptions are off (the API refuses quotes with 503).
   */
  redemptionContractId?: string;
  /**
   * The vesting contract the vesting workflows register schedules and record releases on (and
   * whose events are indexed). Absent: vesting schedules are off (the API refuses them with 503).
   */
  vestingContractId?: string;
  /**
   * Where holders pay for redemptions, and refunds are paid from: the distribution account, so
   * spent NOVA returns to the pool rewards are paid from.
   */
  redemptionAccount: string;
}

/** The signing keys; only the worker loads them. Never logged, never stored in read models. */
export interface StellarSigners {
  distribution: Keypair;
  channels: Keypair[];
}

interface KeysFile {
  issuer?: { publicKey?: string };
  distribution?: { publicKey?: string; secretKey?: string };
  channels?: { secretKey?: string }[];
}

function readKeysFile(path: string | undefined): KeysFile | undefined {
  if (!path) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as KeysFile;
  } catch (error) {
    throw new ConfigError([
      { variable: 'STELLAR_KEYS_FILE', message: `cannot read ${path}: ${(error as Error).message}` },
    ]);
  }
}

/** A contract's id: its own variable, else its entry (`<name>.contractId`) in STELLAR_CONTRACTS_FILE, if the file has one. */
function contractId(env: StellarEnv, name: 'campaign' | 'redemption' | 'vesting'): string | undefined {
  const own = {
    campaign: env.CAMPAIGN_CONTRACT_ID,
    redemption: env.REDEMPTION_CONTRACT_ID,
    vesting: env.VESTING_CONTRACT_ID,
  }[name];
  if (own) return own;
  if (!env.STELLAR_CONTRACTS_FILE) return undefined;
  const variable = 'STELLAR_CONTRACTS_FILE';
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(env.STELLAR_CONTRACTS_FILE, 'utf8'));
  } catch (error) {
    throw new ConfigError([
      { variable, message: `cannot read ${env.STELLAR_CONTRACTS_FILE}: ${(error as Error).message}` },
    ]);
  }
  const entry = (document as Record<string, { contractId?: unknown } | undefined> | null)?.[name];
  // The campaign contract is what the file is for; the others are optional in it.
  if (entry === undefined && name !== 'campaign') return undefined;
  const id = entry?.contractId;
  if (typeof id !== 'string' || !StrKey.isValidContract(id)) {
    throw new ConfigError([
      { variable, message: `${env.STELLAR_CONTRACTS_FILE} holds no ${name}.contractId (a C... address)` },
    ]);
  }
  return id;
}

function readSecretFile(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new ConfigError([{ variable, message: `cannot read ${path}: ${(error as Error).message}` }]);
  }
}

function secretKeypair(variable: string, seed: string): Keypair {
  // The message never repeats the value: it is a secret.
  if (!StrKey.isValidEd25519SecretSeed(seed))
    throw new ConfigError([{ variable, message: 'must hold Stellar secret seeds (S...)' }]);
  return Keypair.fromSecret(seed);
}

function distributionSecret(
  env: StellarEnv,
  keys: KeysFile | undefined,
): { variable: string; seed: string } | undefined {
  if (env.DISTRIBUTION_SECRET) return { variable: 'DISTRIBUTION_SECRET', seed: env.DISTRIBUTION_SECRET };
  if (env.DISTRIBUTION_SECRET_FILE)
    return {
      variable: 'DISTRIBUTION_SECRET_FILE',
      seed: readSecretFile('DISTRIBUTION_SECRET_FILE', env.DISTRIBUTION_SECRET_FILE),
    };
  if (keys?.distribution?.secretKey) return { variable: 'STELLAR_KEYS_FILE', seed: keys.distribution.secretKey };
  return undefined;
}

export function stellarNetworkConfig(env: StellarEnv): StellarNetworkConfig {
  const defaults = NETWORK_DEFAULTS[env.STELLAR_NETWORK];
  const keys = readKeysFile(env.STELLAR_KEYS_FILE);
  const problems: { variable: string; message: string }[] = [];
  const sorobanRpcUrl = env.SOROBAN_RPC_URL ?? defaults.sorobanRpcUrl;
  if (!sorobanRpcUrl)
    problems.push({ variable: 'SOROBAN_RPC_URL', message: `is required for STELLAR_NETWORK=${env.STELLAR_NETWORK}` });
  const assetIssuer = env.NOVA_ASSET_ISSUER ?? keys?.issuer?.publicKey;
  if (!assetIssuer || !StrKey.isValidEd25519PublicKey(assetIssuer)) {
    problems.push({ variable: 'NOVA_ASSET_ISSUER', message: 'is required (or STELLAR_KEYS_FILE with the issuer)' });
  }
  let distributionAccount = env.DISTRIBUTION_ACCOUNT ?? keys?.distribution?.publicKey;
  if (!distributionAccount) {
    const secret = distributionSecret(env, keys);
    if (secret) distributionAccount = secretKeypair(secret.variable, secret.seed).publicKey();
  }
  if (!distributionAccount) {
    problems.push({
      variable: 'DISTRIBUTION_ACCOUNT',
      message: 'is required (or DISTRIBUTION_SECRET / STELLAR_KEYS_FILE)',
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const campaignContract = contractId(env, 'campaign');
  const redemptionContract = contractId(env, 'redemption');
  const vestingContract = contractId(env, 'vesting');
  return {
    network: env.STELLAR_NETWORK,
    horizonUrl: (env.HORIZON_URL ?? defaults.horizonUrl).replace(/\/+$/, ''),
    sorobanRpcUrl: sorobanRpcUrl as string,
    networkPassphrase: env.NETWORK_PASSPHRASE ?? defaults.passphrase,
    assetCode: env.NOVA_ASSET_CODE,
    assetIssuer: assetIssuer as string,
    distributionAccount: distributionAccount as string,
    transactionTimeoutSeconds: env.STELLAR_TX_TIMEOUT_SECONDS,
    maxFeePerOperation: env.STELLAR_MAX_FEE,
    maxPaymentsPerTransaction: env.PAYMENT_BATCH_SIZE,
    ...(campaignContract ? { campaignContractId: campaignContract } : {}),
    ...(redemptionContract ? { redemptionContractId: redemptionContract } : {}),
    ...(vestingContract ? { vestingContractId: vestingContract } : {}),
    redemptionAccount: distributionAccount as string,
  };
}

export function stellarSigners(env: StellarEnv, network: StellarNetworkConfig): StellarSigners {
  const keys = readKeysFile(env.STELLAR_KEYS_FILE);
  const secret = distributionSecret(env, keys);
  if (!secret)
    throw new ConfigError([
      { variable: 'DISTRIBUTION_SECRET', message: 'is required (or DISTRIBUTION_SECRET_FILE / STELLAR_KEYS_FILE)' },
    ]);
  const distribution = secretKeypair(secret.variable, secret.seed);
  if (distribution.publicKey() !== network.distributionAccount) {
    throw new ConfigError([{ variable: secret.variable, message: 'does not match DISTRIBUTION_ACCOUNT' }]);
  }
  let channelSeeds: { variable: string; seeds: string[] };
  if (env.CHANNEL_SECRETS) channelSeeds = { variable: 'CHANNEL_SECRETS', seeds: env.CHANNEL_SECRETS.split(',') };
  else if (env.CHANNEL_SECRETS_FILE) {
    channelSeeds = {
      variable: 'CHANNEL_SECRETS_FILE',
      seeds: readSecretFile('CHANNEL_SECRETS_FILE', env.CHANNEL_SECRETS_FILE).split(/[\s,]+/),
    };
  } else channelSeeds = { variable: 'STELLAR_KEYS_FILE', seeds: (keys?.channels ?? []).map((c) => c.secretKey ?? '') };
  const seeds = channelSeeds.seeds.map((s) => s.trim()).filter(Boolean);
  if (seeds.length < env.CHANNEL_POOL_SIZE) {
    throw new ConfigError([
      {
        variable: 'CHANNEL_POOL_SIZE',
        message: `is ${env.CHANNEL_POOL_SIZE} but ${channelSeeds.variable} holds ${seeds.length} channel secrets`,
      },
    ]);
  }
  return {
    distribution,
    channels: seeds.slice(0, env.CHANNEL_POOL_SIZE).map((seed) => secretKeypair(channelSeeds.variable, seed)),
  };
}
