// @ts-check
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { dataDir, root } = require('./lib/paths');

/**
 * Development helpers for the local Stellar sandbox (never a real network: it uses the
 * sandbox's friendbot, which only the sandbox has).
 *
 *   npm run sandbox -- wallet [--trust]
 *
 * makes a funded account (and with --trust, its NOVA trustline) and prints its address and
 * secret, for the quick start's reward. Reads START's sandbox (STELLAR_SANDBOX_PORT, 8000) and
 * its keys file (NOVA_DATA_DIR/stellar-sandbox/keys.json) unless told otherwise:
 * --horizon URL, --issuer G..., --asset CODE (NOVA_ASSET_CODE, NOVA).
 */

/** @type {typeof import('@stellar/stellar-sdk')} */
const sdk = require(require.resolve('@stellar/stellar-sdk', { paths: [root] }));

/** @param {string[]} argv */
function parse(argv) {
  /** @type {Record<string, string | boolean>} */
  const flags = {};
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = /** @type {string} */ (argv[i]);
    if (!arg.startsWith('--')) positional.push(arg);
    else if (arg === '--trust') flags.trust = true;
    else flags[arg.slice(2)] = argv[++i] ?? '';
  }
  return { command: positional[0], flags };
}

/** @param {Record<string, string | boolean>} flags */
function issuerFrom(flags) {
  if (typeof flags.issuer === 'string') return flags.issuer;
  const keysFile = path.join(dataDir, 'stellar-sandbox', 'keys.json');
  try {
    return /** @type {{ issuer: { publicKey: string } }} */ (JSON.parse(fs.readFileSync(keysFile, 'utf8'))).issuer
      .publicKey;
  } catch (error) {
    throw new Error(`cannot read the sandbox's issuer from ${keysFile} (is START running?): ${String(error)}`);
  }
}

/** @param {Record<string, string | boolean>} flags */
async function wallet(flags) {
  const horizonUrl = String(flags.horizon || `http://127.0.0.1:${process.env.STELLAR_SANDBOX_PORT || 8000}`);
  const keypair = sdk.Keypair.random();
  const funded = await fetch(`${horizonUrl}/friendbot?addr=${keypair.publicKey()}`);
  if (!funded.ok)
    throw new Error(`the sandbox's friendbot at ${horizonUrl} answered ${funded.status}: ${await funded.text()}`);
  if (flags.trust) {
    const asset = new sdk.Asset(String(flags.asset || process.env.NOVA_ASSET_CODE || 'NOVA'), issuerFrom(flags));
    const server = new sdk.Horizon.Server(horizonUrl, { allowHttp: true });
    const root = /** @type {{ network_passphrase: string }} */ (await (await fetch(`${horizonUrl}/`)).json());
    const account = await server.loadAccount(keypair.publicKey());
    const transaction = new sdk.TransactionBuilder(account, { fee: '100', networkPassphrase: root.network_passphrase })
      .addOperation(sdk.Operation.changeTrust({ asset }))
      .setTimeout(30)
      .build();
    transaction.sign(keypair);
    await server.submitTransaction(transaction);
  }
  process.stdout.write(
    `${JSON.stringify({ address: keypair.publicKey(), secret: keypair.secret(), trustsNova: Boolean(flags.trust) }, null, 2)}\n`,
  );
}

async function main() {
  const { command, flags } = parse(process.argv.slice(2));
  if (command === 'wallet') return await wallet(flags);
  throw new Error('usage: npm run sandbox -- wallet [--trust] [--horizon URL] [--issuer G...] [--asset CODE]');
}

main().catch((error) => {
  process.stderr.write(`[sandbox] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
