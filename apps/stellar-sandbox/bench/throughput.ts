/**
 * Throughput of the sandbox itself (not a test): start the CLI as its own process, pre-sign
 * N NOVA payments (tx source = a channel account, op source = distribution, text memo, two
 * signatures each, as the payout gateway sends them), submit them all through
 * POST /transactions_async, and measure how fast they are applied into closed ledgers.
 *
 *   node apps/stellar-sandbox/dist/bench/throughput.js
 *   BENCH_TXS=5000 BENCH_CHANNELS=100 BENCH_MAX_OPS=1000 BENCH_LEDGER_MS=1000
 *
 * Each channel account submits its own chain in sequence order (one request in flight per
 * channel, as core needs sequence numbers in order), all channels concurrently.
 */
import { spawn } from 'node:child_process';
import { createPrivateKey, sign as signEd25519, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  Account,
  Asset,
  Horizon,
  Keypair,
  Memo,
  Operation,
  TransactionBuilder,
  xdr,
  type Transaction,
} from '@stellar/stellar-sdk';

const TXS = envInt('BENCH_TXS', 5000);
const CHANNELS = envInt('BENCH_CHANNELS', 100);
const MAX_OPS = envInt('BENCH_MAX_OPS', 1000);
const LEDGER_MS = envInt('BENCH_LEDGER_MS', 1000);
const HOLDERS = 10;

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw === undefined ? fallback : Number.parseInt(raw, 10);
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux only). */
async function cpuSecondsOf(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function say(message: string): void {
  process.stdout.write(`[bench] ${message}\n`);
}

/** node:crypto signs ed25519 ~10x faster than the SDK's JS signer; the bytes are the same. */
function fastSigner(keypair: Keypair): (transaction: Transaction) => void {
  const key: KeyObject = createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), keypair.rawSecretKey()]),
    format: 'der',
    type: 'pkcs8',
  });
  const hint = keypair.signatureHint();
  return (transaction) => {
    const signature = signEd25519(null, transaction.hash(), key);
    transaction.signatures.push(new xdr.DecoratedSignature({ hint, signature }));
  };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'nova-sandbox-bench-'));
  say(`starting the sandbox: ${LEDGER_MS} ms ledgers, ${MAX_OPS} ops per ledger, ${CHANNELS} channel accounts`);
  const profile = process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  const child = spawn(process.execPath, [...profile, path.resolve(__dirname, '../src/main.js')], {
    env: {
      ...process.env,
      SANDBOX_PORT: '0',
      SANDBOX_DATA_DIR: dataDir,
      SANDBOX_LEDGER_INTERVAL_MS: String(LEDGER_MS),
      SANDBOX_MAX_OPS_PER_LEDGER: String(MAX_OPS),
      SANDBOX_CHANNEL_ACCOUNTS: String(CHANNELS),
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const match = /listening on (\S+)/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`sandbox exited with ${String(code)}`)));
    });
    const horizon = new Horizon.Server(url, { allowHttp: true });
    const root = await horizon.root();
    const passphrase = root.network_passphrase;
    const keys = JSON.parse(await readFile(path.join(dataDir, 'keys.json'), 'utf8')) as {
      issuer: { publicKey: string };
      distribution: { secretKey: string };
      channels: Array<{ secretKey: string }>;
    };
    const nova = new Asset('NOVA', keys.issuer.publicKey);
    const distribution = Keypair.fromSecret(keys.distribution.secretKey);

    say(`creating ${HOLDERS} NOVA holders`);
    const holders: string[] = [];
    for (let index = 0; index < HOLDERS; index += 1) {
      const holder = Keypair.random();
      await horizon.friendbot(holder.publicKey()).call();
      const trust = new TransactionBuilder(await horizon.loadAccount(holder.publicKey()), {
        fee: '100',
        networkPassphrase: passphrase,
      })
        .addOperation(Operation.changeTrust({ asset: nova }))
        .setTimeout(300)
        .build();
      trust.sign(holder);
      await horizon.submitTransaction(trust);
      holders.push(holder.publicKey());
    }

    say(`pre-signing ${TXS} payments (2 signatures each)`);
    const signDistribution = fastSigner(distribution);
    const channels = await Promise.all(
      keys.channels.slice(0, CHANNELS).map(async (record) => {
        const keypair = Keypair.fromSecret(record.secretKey);
        const loaded = await horizon.loadAccount(keypair.publicKey());
        return { account: new Account(keypair.publicKey(), loaded.sequence), sign: fastSigner(keypair) };
      }),
    );
    const chains: string[][] = channels.map(() => []);
    for (let index = 0; index < TXS; index += 1) {
      const channel = channels[index % channels.length];
      if (!channel) throw new Error('no channel accounts');
      const transaction = new TransactionBuilder(channel.account, { fee: '100', networkPassphrase: passphrase })
        .addOperation(
          Operation.payment({
            source: distribution.publicKey(),
            destination: holders[index % holders.length] ?? '',
            asset: nova,
            amount: '1',
          }),
        )
        .addMemo(Memo.text(`bench-${index}`))
        .setTimeout(600)
        .build();
      channel.sign(transaction);
      signDistribution(transaction);
      chains[index % channels.length]?.push(`tx=${encodeURIComponent(transaction.toEnvelope().toXDR('base64'))}`);
      if ((index + 1) % 1000 === 0) say(`  signed ${index + 1}/${TXS}`);
    }

    const statusOf = async (): Promise<{ transactions: number; latestLedger: number }> =>
      (await (await fetch(`${url}/sandbox/status`)).json()) as { transactions: number; latestLedger: number };
    const baseline = await statusOf();
    const cpuBefore = await cpuSecondsOf(child.pid);

    say(`submitting ${TXS} transactions to /transactions_async, one chain per channel, ${chains.length} in flight`);
    const started = performance.now();
    let refused = 0;
    const refusals = new Map<string, number>();
    const worker = async (chain: string[]): Promise<void> => {
      for (const body of chain) {
        const response = await fetch(`${url}/transactions_async`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body,
        });
        const answer = (await response.json()) as { tx_status?: string; title?: string };
        if (answer.tx_status !== 'PENDING') {
          refused += 1;
          const reason = answer.tx_status ?? answer.title ?? String(response.status);
          refusals.set(reason, (refusals.get(reason) ?? 0) + 1);
        }
      }
    };
    await Promise.all(chains.map(worker));
    if (refused > 0) say(`  refused: ${JSON.stringify(Object.fromEntries(refusals))}`);
    const submitted = performance.now();
    say(
      `  accepted ${TXS - refused}/${TXS} in ${((submitted - started) / 1000).toFixed(2)} s (${((TXS * 1000) / (submitted - started)).toFixed(0)} submissions/s)`,
    );

    let status = await statusOf();
    while (status.transactions - baseline.transactions < TXS - refused) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = await statusOf();
      say(`  applied ${status.transactions - baseline.transactions}/${TXS - refused} (ledger ${status.latestLedger})`);
    }
    const finished = performance.now();
    const cpuAfter = await cpuSecondsOf(child.pid);
    const seconds = (finished - started) / 1000;
    const ledgers = status.latestLedger - baseline.latestLedger;
    say(
      `RESULT: ${TXS - refused} payments applied in ${seconds.toFixed(2)} s wall (${ledgers} ledgers) = ${((TXS - refused) / seconds).toFixed(0)} tx/s` +
        ` (cap ${((MAX_OPS * 1000) / LEDGER_MS).toFixed(0)} ops/s by configuration)`,
    );
    if (cpuBefore !== undefined && cpuAfter !== undefined) {
      const perTx = ((cpuAfter - cpuBefore) * 1000) / (TXS - refused);
      say(
        `RESULT: sandbox process CPU ${perTx.toFixed(2)} ms per payment (submission + application) = ~${(1000 / perTx).toFixed(0)} tx/s per core`,
      );
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
