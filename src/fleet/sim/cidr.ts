import { badInput } from '../../core/errors.js';
import { intToIpv4, ipv4ToInt } from '../../core/ipv4.js';

/** An IPv4 block as a 32-bit network address and prefix length. */
export interface Ipv4Block {
  readonly network: number;
  readonly prefix: number;
}

/** Parses 'a.b.c.d/p'; the simulator only binds loopback (127.0.0.0/8), so anything else is refused. */
export function parseLoopbackCidr(cidr: string, where = '--cidr'): Ipv4Block {
  const [ip, p, extra] = cidr.split('/');
  const addr = ip === undefined ? null : ipv4ToInt(ip);
  const prefix = p === undefined ? 32 : Number(p);
  if (addr === null || extra !== undefined || !Number.isInteger(prefix) || prefix < 8 || prefix > 32) {
    throw badInput(`expected a CIDR such as 127.20.0.0/16, got '${cidr}'`, where);
  }
  if (addr >>> 24 !== 127) throw badInput(`must be inside loopback 127.0.0.0/8 (the simulator binds local addresses only), got '${cidr}'`, where);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { network: (addr & mask) >>> 0, prefix };
}

/** Usable host addresses in the block: last octet neither 0 nor 255 (they look like network/broadcast). */
export function usableAddressCount(block: Ipv4Block): number {
  const size = 2 ** (32 - block.prefix);
  let n = 0;
  // Counting per /24 keeps this O(blocks of 256), not O(addresses).
  for (let base = block.network; base < block.network + size; base += 256) {
    const span = Math.min(256, block.network + size - base);
    const first = base & 255;
    for (let o = first; o < first + span; o++) if (o !== 0 && o !== 255) n++;
  }
  return n;
}

/** The first `n` usable addresses of the block, in order (127.20.0.1, 127.20.0.2, …, skipping .0/.255). */
export function allocateAddresses(cidr: string, n: number, where = '--cidr'): string[] {
  const block = parseLoopbackCidr(cidr, where);
  const size = 2 ** (32 - block.prefix);
  const out: string[] = [];
  for (let v = block.network; v < block.network + size && out.length < n; v++) {
    const last = v & 255;
    if (last === 0 || last === 255) continue;
    out.push(intToIpv4(v));
  }
  if (out.length < n) {
    throw badInput(`has ${usableAddressCount(block)} usable addresses, ${n} miners need more (use a shorter prefix)`, where);
  }
  return out;
}
