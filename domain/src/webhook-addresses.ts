/**
 * Where a merchant's webhook may be delivered: never into the platform's own network. The API
 * checks a URL when an endpoint is registered (webhookUrlRefusal: literal addresses, localhost);
 * the sender checks every address a hostname resolves to at every attempt (addressRefusal), so a
 * name that later resolves inward (DNS rebinding) is refused too. WEBHOOK_ALLOWED_HOSTS is the
 * only way around it. Node only (ipaddr.js): imported by the config, the API and the
 * activities, never by workflow code.
 */
import ipaddr from 'ipaddr.js';

type IPAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** Built once from WEBHOOK_ALLOWED_HOSTS; what it lists is delivered to although the rules refuse it. */
export interface WebhookAllowlist {
  /** Hostnames (lowercase, without a trailing dot): their URLs are delivered to whatever they resolve to. */
  hosts: string[];
  /** Addresses (a /32 or /128) and CIDR ranges a delivery may connect to. */
  ranges: [IPAddress, number][];
}

const ALLOWLIST_VARIABLE = 'WEBHOOK_ALLOWED_HOSTS';

// Each cloud's instance metadata service: reaching one hands out the platform's credentials.
const METADATA_ADDRESSES = new Set(['169.254.169.254', '100.100.100.200', 'fd00:ec2::254']);

const RANGE_NAMES: Record<string, string> = {
  loopback: 'loopback',
  private: 'private (RFC 1918)',
  uniqueLocal: 'private (unique local, fc00::/7)',
  linkLocal: 'link-local',
  carrierGradeNat: 'shared address space (CGNAT, 100.64.0.0/10)',
  multicast: 'multicast',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  reserved: 'reserved',
};

// A DNS name: letters, digits, hyphens (and underscores, which some internal names carry).
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** The one form addresses are compared in: an IPv4-mapped IPv6 address is the IPv4 address it maps. */
function canonical(address: IPAddress): IPAddress {
  return address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
}

function canonicalRange([address, bits]: [IPAddress, number]): [IPAddress, number] {
  if (address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress() && bits >= 96) {
    return [address.toIPv4Address(), bits - 96];
  }
  return [address, bits];
}

function withoutTrailingDot(hostname: string): string {
  return hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
}

/** An allowlist entry as an address range, undefined when it is not written as one (a hostname). */
function allowlistRange(entry: string): [IPAddress, number] | undefined {
  const bracketed = /^\[([^\]]*)\](\/.*)?$/.exec(entry);
  const text = bracketed ? `${bracketed[1]}${bracketed[2] ?? ''}` : entry;
  const [addressText = '', bitsText, ...rest] = text.split('/');
  // Anything with a colon or a slash, or whose labels are all digits, can only be meant as an address.
  const addressLike = bracketed !== null || text.includes(':') || text.includes('/') || /^[\d.]+$/.test(text);
  if (!addressLike) return undefined;
  const valid =
    rest.length === 0 &&
    (ipaddr.IPv4.isValidFourPartDecimal(addressText) || ipaddr.IPv6.isValid(addressText)) &&
    (bitsText === undefined || /^\d{1,3}$/.test(bitsText));
  if (!valid) throw new Error(`"${entry}" is not a hostname, an IP address or a CIDR range`);
  const address = ipaddr.parse(addressText);
  const maxBits = address.kind() === 'ipv4' ? 32 : 128;
  const bits = bitsText === undefined ? maxBits : Number(bitsText);
  if (bits > maxBits) throw new Error(`"${entry}": an ${address.kind()} prefix is at most /${maxBits}`);
  return canonicalRange([address, bits]);
}

/**
 * Reads WEBHOOK_ALLOWED_HOSTS: comma-separated hostnames (`receiver.test`), addresses
 * (`127.0.0.1`, `::1`) and CIDR ranges (`10.0.0.0/8`, `fd00::/8`). Throws naming a bad entry.
 */
export function parseWebhookAllowlist(csv: string | undefined): WebhookAllowlist {
  const allowlist: WebhookAllowlist = { hosts: [], ranges: [] };
  for (const raw of (csv ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const range = allowlistRange(entry);
    if (range) {
      allowlist.ranges.push(range);
      continue;
    }
    const hostname = withoutTrailingDot(entry.toLowerCase());
    if (!HOSTNAME.test(hostname)) {
      throw new Error(`"${entry}" is not a hostname, an IP address or a CIDR range`);
    }
    allowlist.hosts.push(hostname);
  }
  return allowlist;
}

/** Whether a URL's hostname is allowlisted by name (its resolved addresses are then not checked). */
export function isAllowlistedHost(hostname: string, allowlist: WebhookAllowlist): boolean {
  return allowlist.hosts.includes(withoutTrailingDot(hostname.toLowerCase()));
}

function allowlisted(address: IPAddress, allowlist: WebhookAllowlist): boolean {
  return allowlist.ranges.some(([base, bits]) => base.kind() === address.kind() && address.match(base, bits));
}

/** The IPv4 address an IPv6 address hands the connection on to (NAT64, SIIT, 6to4), if any. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = address.parts;
  const v4 = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  const zeros = (from: number, to: number) => p.slice(from, to).every((part) => part === 0);
  if (p[0] === 0x64 && p[1] === 0xff9b && zeros(2, 6)) return v4(p[6]!, p[7]!); // NAT64 well-known prefix
  if (zeros(0, 4) && p[4] === 0xffff && p[5] === 0) return v4(p[6]!, p[7]!); // SIIT (RFC 6145)
  if (p[0] === 0x2002) return v4(p[1]!, p[2]!); // 6to4
  return undefined;
}

/** Why the policy refuses an address (before the allowlist), undefined when it is a public unicast one. */
function refusedAs(address: IPAddress): string | undefined {
  if (METADATA_ADDRESSES.has(address.toString())) return 'a cloud metadata address';
  // ::a.b.c.d, the deprecated IPv4-compatible form (:: and ::1 are named by their range).
  if (
    address instanceof ipaddr.IPv6 &&
    address.parts.slice(0, 6).every((p) => p === 0) &&
    address.range() === 'unicast'
  ) {
    return 'reserved (IPv4-compatible IPv6)';
  }
  const range = address.range();
  if (range === 'unicast') return undefined;
  return RANGE_NAMES[range] ?? `special-purpose (${range})`;
}

function refusalOf(text: string, address: IPAddress, allowlist: WebhookAllowlist): string | undefined {
  const normal = canonical(address);
  if (allowlisted(normal, allowlist)) return undefined;
  // An IPv6 address that carries an IPv4 one is judged by where the connection ends up.
  const target = (normal instanceof ipaddr.IPv6 && embeddedIPv4(normal)) || normal;
  const reason = refusedAs(target);
  if (reason === undefined) return undefined;
  const shown = target === address ? text : `${text} (IPv4 ${target.toString()})`;
  return `address ${shown} is ${reason}, not allowed for webhooks (${ALLOWLIST_VARIABLE})`;
}

/**
 * For an address a webhook's hostname resolved to, just before connecting: undefined when the
 * connection may go there, else the reason (e.g. "address 127.0.0.1 is loopback, not allowed
 * for webhooks (WEBHOOK_ALLOWED_HOSTS)").
 */
export function addressRefusal(address: string, allowlist: WebhookAllowlist): string | undefined {
  let parsed: IPAddress;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return `${address} is not an IP address`;
  }
  return refusalOf(address, parsed, allowlist);
}

/**
 * The check at registration (and again before every attempt): undefined when the URL may be
 * registered, else a reason to show the merchant. A hostname is accepted here unless it is
 * localhost; what it resolves to is checked at every attempt.
 */
export function webhookUrlRefusal(url: string, allowlist: WebhookAllowlist): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a valid absolute URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return `scheme "${parsed.protocol.slice(0, -1)}" is not allowed for webhooks: use https (or http)`;
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return 'credentials in the URL (user:password@) are not allowed for webhooks';
  }
  // The WHATWG parser has already turned 2130706433, 0x7f.1 and the like into dotted IPv4.
  const hostname = withoutTrailingDot(parsed.hostname);
  const literal = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (ipaddr.IPv4.isValidFourPartDecimal(literal) || (hostname.startsWith('[') && ipaddr.IPv6.isValid(literal))) {
    return refusalOf(literal, ipaddr.parse(literal), allowlist);
  }
  if (isAllowlistedHost(hostname, allowlist)) return undefined;
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) {
    return `host ${hostname} is loopback (localhost), not allowed for webhooks (${ALLOWLIST_VARIABLE})`;
  }
  return undefined;
}
