import { afterAll, beforeAll, describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Keypair } from '@stellar/stellar-sdk';
import { startStellarFixture, type StellarFixture } from '../support/stellar';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');

// The quick start's wallet: `npm run sandbox -- wallet --trust` against a real sandbox.
describe('npm run sandbox -- wallet', () => {
  let stellar: StellarFixture;
  beforeAll(async () => {
    stellar = await startStellarFixture();
  });
  afterAll(async () => {
    await stellar?.stop();
  });

  const wallet = async (...flags: string[]) => {
    const { stdout } = await run(process.execPath, [join(root, 'scripts', 'sandbox.js'), 'wallet', ...flags], {
      cwd: root,
    });
    return JSON.parse(stdout) as { address: string; secret: string; trustsNova: boolean };
  };
  const balancesOf = async (address: string) => {
    const response = await fetch(`${stellar.sandbox.url}/accounts/${address}`);
    assert.equal(response.status, 200, 'the account exists on the sandbox');
    return (
      (await response.json()) as { balances: { asset_type: string; asset_code?: string; asset_issuer?: string }[] }
    ).balances;
  };

  it('--trust: a funded account with the NOVA trustline; its address and secret printed', async () => {
    const made = await wallet('--trust', '--horizon', stellar.sandbox.url, '--issuer', stellar.sandbox.asset.issuer);
    assert.equal(made.trustsNova, true);
    assert.equal(Keypair.fromSecret(made.secret).publicKey(), made.address);
    const balances = await balancesOf(made.address);
    assert.ok(balances.some((b) => b.asset_type === 'native'));
    assert.ok(
      balances.some(
        (b) => b.asset_code === stellar.sandbox.asset.code && b.asset_issuer === stellar.sandbox.asset.issuer,
      ),
      JSON.stringify(balances),
    );
  });

  it('without --trust: funded, no trustline', async () => {
    const made = await wallet('--horizon', stellar.sandbox.url);
    assert.equal(made.trustsNova, false);
    assert.deepEqual(
      (await balancesOf(made.address)).map((b) => b.asset_type),
      ['native'],
    );
  });
});
