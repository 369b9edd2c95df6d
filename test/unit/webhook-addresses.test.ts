import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { addressRefusal, parseWebhookAllowlist, webhookUrlRefusal } from '@nova/domain/webhook-addresses';

const none = parseWebhookAllowlist(undefined);

describe('webhook allowlist (WEBHOOK_ALLOWED_HOSTS)', () => {
  it('reads hostnames, addresses and CIDR ranges, IPv4 and IPv6', () => {
    const allowlist = parseWebhookAllowlist(' 127.0.0.1, ::1 ,10.0.0.0/8, [fd00::]/8, Receiver.Test., ,hooks.internal');
    assert.deepEqual(allowlist.hosts, ['receiver.test', 'hooks.internal']);
    assert.deepEqual(
      allowlist.ranges.map(([address, bits]) => `${address.toString()}/${bits}`),
      ['127.0.0.1/32', '::1/128', '10.0.0.0/8', 'fd00::/8'],
    );
  });

  it('is empty when unset or blank', () => {
    for (const csv of [undefined, '', ' , ']) assert.deepEqual(parseWebhookAllowlist(csv), { hosts: [], ranges: [] });
  });

  for (const bad of [
    '10.0.0.0/33',
    '::1/129',
    '300.1.1.1',
    '1.2.3',
    '::zz',
    '10.0.0.0/8/8',
    'not a host',
    'http://x',
  ]) {
    it(`refuses ${JSON.stringify(bad)}, naming it`, () => {
      assert.throws(
        () => parseWebhookAllowlist(`127.0.0.1,${bad}`),
        (error: Error) => error.message.includes(`"${bad}"`),
      );
    });
  }
});

describe('webhook URLs at registration', () => {
  const refused: [string, RegExp][] = [
    ['http://127.0.0.1', /^address 127\.0\.0\.1 is loopback, not allowed for webhooks \(WEBHOOK_ALLOWED_HOSTS\)$/],
    ['http://169.254.169.254/latest/meta-data', /169\.254\.169\.254 is a cloud metadata address/],
    ['http://100.100.100.200/', /cloud metadata/],
    ['http://[fd00:ec2::254]/', /cloud metadata/],
    ['http://10.0.0.1', /10\.0\.0\.1 is private/],
    ['http://192.168.1.10:8080/hook', /private/],
    ['http://[fc00::1]/', /private/],
    ['http://[::1]', /address ::1 is loopback/],
    ['http://[::ffff:127.0.0.1]', /::ffff:7f00:1 \(IPv4 127\.0\.0\.1\) is loopback/],
    ['http://2130706433/', /address 127\.0\.0\.1 is loopback/],
    ['http://0x7f.1/', /address 127\.0\.0\.1 is loopback/],
    ['http://100.64.0.1', /100\.64\.0\.1 is shared address space \(CGNAT/],
    ['http://169.254.1.1', /link-local/],
    ['http://[fe80::1]/', /link-local/],
    ['http://224.0.0.1', /multicast/],
    ['http://0.0.0.0', /unspecified/],
    ['http://[::]/', /unspecified/],
    ['http://255.255.255.255', /broadcast/],
    ['http://240.0.0.1', /reserved/],
    ['http://localhost', /^host localhost is loopback/],
    ['http://api.localhost./', /host api\.localhost is loopback/],
    ['ftp://x', /scheme "ftp" is not allowed/],
    ['file:///etc/passwd', /scheme "file" is not allowed/],
    ['http://user:pw@example.com', /credentials in the URL/],
    ['not a url', /not a valid absolute URL/],
  ];
  for (const [url, reason] of refused) {
    it(`refuses ${url}`, () => {
      assert.match(webhookUrlRefusal(url, none) ?? '(accepted)', reason);
    });
  }

  it('accepts public URLs, and hostnames whatever they may resolve to (checked at every attempt)', () => {
    for (const url of [
      'https://example.com/hook',
      'http://8.8.8.8/x',
      'https://[2606:4700::1111]/',
      'https://evil.test/',
    ]) {
      assert.equal(webhookUrlRefusal(url, none), undefined, url);
    }
  });

  it('accepts what the allowlist names', () => {
    assert.equal(webhookUrlRefusal('http://127.0.0.1:4000/hook', parseWebhookAllowlist('127.0.0.1')), undefined);
    assert.equal(webhookUrlRefusal('http://[::ffff:127.0.0.1]/', parseWebhookAllowlist('127.0.0.1')), undefined);
    assert.equal(webhookUrlRefusal('http://10.1.2.3', parseWebhookAllowlist('10.0.0.0/8')), undefined);
    assert.equal(webhookUrlRefusal('http://[::1]:9/', parseWebhookAllowlist('::1')), undefined);
    assert.equal(webhookUrlRefusal('http://localhost:4000/', parseWebhookAllowlist('localhost')), undefined);
    // Only what it names.
    assert.match(webhookUrlRefusal('http://hooks.localhost/', parseWebhookAllowlist('localhost'))!, /loopback/);
    assert.match(webhookUrlRefusal('http://127.0.0.2/', parseWebhookAllowlist('127.0.0.1'))!, /loopback/);
    assert.match(webhookUrlRefusal('http://172.16.0.1/', parseWebhookAllowlist('10.0.0.0/8'))!, /private/);
  });
});

describe('resolved addresses at every attempt', () => {
  it('refuses inward addresses with the reason', () => {
    const cases: [string, RegExp][] = [
      ['127.0.0.1', /^address 127\.0\.0\.1 is loopback, not allowed for webhooks \(WEBHOOK_ALLOWED_HOSTS\)$/],
      ['::1', /loopback/],
      ['::ffff:10.0.0.1', /\(IPv4 10\.0\.0\.1\) is private/],
      ['64:ff9b::a9fe:a9fe', /\(IPv4 169\.254\.169\.254\) is a cloud metadata address/],
      ['2002:7f00:1::1', /\(IPv4 127\.0\.0\.1\) is loopback/],
      ['::7f00:1', /IPv4-compatible/],
      ['100.127.255.254', /CGNAT/],
      ['fe80::1%eth0', /link-local/],
      ['ff02::1', /multicast/],
      ['fd12:3456::1', /private/],
      ['not-an-address', /is not an IP address/],
    ];
    for (const [address, reason] of cases) assert.match(addressRefusal(address, none) ?? '(accepted)', reason, address);
  });

  it('accepts public unicast addresses', () => {
    for (const address of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '64:ff9b::808:808', '100.128.0.1']) {
      assert.equal(addressRefusal(address, none), undefined, address);
    }
  });

  it('honours the allowlist ranges', () => {
    const allowlist = parseWebhookAllowlist('127.0.0.1,10.0.0.0/8,fd00::/8,receiver.test');
    for (const address of ['127.0.0.1', '::ffff:127.0.0.1', '10.200.0.9', 'fd00:1::5']) {
      assert.equal(addressRefusal(address, allowlist), undefined, address);
    }
    for (const address of ['127.0.0.2', '172.16.0.1', 'fc00::1', '::1']) {
      assert.ok(addressRefusal(address, allowlist), address);
    }
  });
});
