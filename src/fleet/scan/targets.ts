import { badInput } from '../../core/errors.js';
import { intToIpv4, ipv4ToInt } from '../../core/ipv4.js';

/**
 * Scan targets: IPv4 CIDR blocks (or single addresses), merged and enumerated lazily so a /16 is
 * never materialised. Safety: anything outside loopback 127.0.0.0/8 is refused unless the caller
 * explicitly allows it (this project's sandboxes flag traffic to other ranges).
 */
export interface Ipv4Range {
  /** First address, as an unsigned 32-bit integer. */
  first: number;
  /** Last address (inclusive). */
  last: number;
}

/** Largest number of addresses one scan accepts (a /12). */
export const MAX_SCAN_ADDRESSES = 2 ** 20;

const LOOPBACK: Ipv4Range = { first: 127 * 2 ** 24, last: 128 * 2 ** 24 - 1 };


/**
 * Parses 'a.b.c.d/p' or 'a.b.c.d'. Host bits are ignored (127.0.0.5/24 means 127.0.0.0/24).
 * For blocks larger than /31 the network and broadcast addresses are skipped.
 */
export function parseCidr(text: string, where: string): Ipv4Range {
  const [ip, p, extra] = text.trim().split('/');
  const addr = ip === undefined ? null : ipv4ToInt(ip);
  const prefix = p === undefined ? 32 : /^\d{1,2}$/.test(p) ? Number(p) : NaN;
  if (addr === null || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw badInput(`expected an IPv4 CIDR such as 127.20.0.0/24 or an address, got '${text}'`, where);
  }
  const size = 2 ** (32 - prefix);
  const network = Math.floor(addr / size) * size;
  if (size <= 2) return { first: network, last: network + size - 1 };
  return { first: network + 1, last: network + size - 2 };
}

function insideLoopback(r: Ipv4Range): boolean {
  return r.first >= LOOPBACK.first && r.last <= LOOPBACK.last;
}

/** Parses, checks (loopback safety, size cap) and merges overlapping targets. */
export function parseTargets(texts: readonly string[], opts: { allowNonLoopback: boolean; where?: string }): Ipv4Range[] {
  if (texts.length === 0) throw badInput('give at least one CIDR or address to scan', opts.where ?? 'CIDR');
  const ranges = texts.map((t, i) => {
    const r = parseCidr(t, opts.where ?? `CIDR #${i + 1}`);
    if (!opts.allowNonLoopback && !insideLoopback(r)) {
      throw badInput(`'${t}' is outside loopback 127.0.0.0/8; scanning other networks needs --allow-non-loopback`, opts.where ?? `CIDR #${i + 1}`);
    }
    return r;
  });
  ranges.sort((a, b) => a.first - b.first);
  const merged: Ipv4Range[] = [];
  for (const r of ranges) {
    const prev = merged[merged.length - 1];
    if (prev && r.first <= prev.last + 1) prev.last = Math.max(prev.last, r.last);
    else merged.push({ ...r });
  }
  const total = countAddresses(merged);
  if (total > MAX_SCAN_ADDRESSES) {
    throw badInput(`${total} addresses exceed the limit of ${MAX_SCAN_ADDRESSES} per scan (a /12); split the scan`, opts.where ?? 'CIDR');
  }
  return merged;
}

export function countAddresses(ranges: readonly Ipv4Range[]): number {
  return ranges.reduce((n, r) => n + (r.last - r.first + 1), 0);
}

/** Lazily yields every address in the merged ranges, in order. */
export function* addresses(ranges: readonly Ipv4Range[]): Generator<string> {
  for (const r of ranges) for (let v = r.first; v <= r.last; v++) yield intToIpv4(v);
}
