/**
 * One rule for a miner's inventory id, shared by `mullet fleet scan` and the simulator's inventory
 * export, so switching between them (or a DHCP lease moving a miner to another address) keeps the
 * agent's per-miner state: `mac:<aa:bb:cc:dd:ee:ff>` when the firmware reports its control board's
 * MAC address, else the address (`host`, or `host:port` off the default API port 4028).
 */

/** Canonical MAC (lower case, colon separated) from firmware text, or null when it is not a usable MAC. */
export function normalizeMac(text: string | null | undefined): string | null {
  if (typeof text !== 'string') return null;
  const t = text.trim().toLowerCase();
  let hex: string;
  if (/^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/.test(t)) hex = t.replace(/[:-]/g, '');
  else if (/^[0-9a-f]{12}$/.test(t)) hex = t;
  else return null;
  // Unset / broadcast addresses identify nothing.
  if (/^0{12}$|^f{12}$/.test(hex)) return null;
  return hex.match(/../g)?.join(':') ?? null;
}

export const DEFAULT_API_PORT = 4028;

/** The inventory id of a miner (see the module comment). */
export function minerId(m: { macAddress: string | null; host: string; apiPort: number }): string {
  if (m.macAddress !== null) return `mac:${m.macAddress}`;
  return m.apiPort === DEFAULT_API_PORT ? m.host : `${m.host}:${m.apiPort}`;
}
