/** Dotted-quad IPv4 addresses as unsigned 32-bit integers (pure; shared by the scanner and the simulator). */

/** 'a.b.c.d' → its integer, or null when it is not a dotted quad with octets ≤ 255. */
export function ipv4ToInt(ip: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return null;
    v = v * 256 + o;
  }
  return v;
}

/** An integer in [0, 2^32) → 'a.b.c.d'. */
export function intToIpv4(v: number): string {
  return `${Math.floor(v / 2 ** 24) % 256}.${Math.floor(v / 2 ** 16) % 256}.${Math.floor(v / 2 ** 8) % 256}.${v % 256}`;
}
