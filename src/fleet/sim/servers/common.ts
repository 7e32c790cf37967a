import type { ApiRequest } from '../cgminer-wire.js';
import type { FirmwareId } from '../firmware.js';
import type { SimMiner } from '../miner.js';
import type { SimModel } from '../models.js';
import type { Telemetry } from '../physics.js';
import { hash32, unit } from '../rng.js';

/** A reply on the cgminer port: the text without its NUL (the host appends it). */
export interface ApiOutcome {
  readonly reply: string;
}

export interface HttpRequestInfo {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** Path with the query, as sent (the digest `uri`). */
  readonly url: string;
  readonly authorization: string | undefined;
  readonly body: string;
}

export interface HttpOutcome {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** One firmware's protocol behaviour; the host owns sockets, framing and faults. */
export interface FirmwareBehaviour {
  readonly id: FirmwareId;
  /** Miner software and version as a driver reports it (inventory `firmware`). */
  label(model: SimModel): string;
  api(miner: SimMiner, req: ApiRequest): ApiOutcome;
  /** An error reply in this firmware's shape (invalid JSON: 23, missing command: 24). */
  apiError(miner: SimMiner, code: number, msg: string): ApiOutcome;
  http?(miner: SimMiner, req: HttpRequestInfo): HttpOutcome;
  /**
   * The control-board MAC this firmware reports where `mullet fleet scan` reads it (cgminer replies,
   * or the web system-info page when the miner has a web port); absent or null when none. The
   * inventory export uses it so simulator ids equal scan ids (fleet/identity.ts).
   */
  reportedMac?(seed: number, hasWebPort: boolean): string | null;
}

/** cgminer command names: a known name outside the allowed group is denied (45), others invalid (14). */
export const CGMINER_COMMANDS: ReadonlySet<string> = new Set([
  'version', 'config', 'summary', 'pools', 'devs', 'edevs', 'pga', 'pgacount', 'asc', 'asccount', 'switchpool', 'enablepool',
  'disablepool', 'addpool', 'removepool', 'poolpriority', 'poolquota', 'save', 'quit', 'notify', 'privileged', 'devdetails',
  'restart', 'stats', 'estats', 'check', 'failover-only', 'coin', 'debug', 'setconfig', 'zero', 'hotplug', 'lcd', 'lockstats',
  'ascenable', 'ascdisable', 'ascidentify', 'ascset', 'pgaenable', 'pgadisable', 'pgaidentify', 'pgaset',
]);

/** Share difficulty the simulated pool hands out (S21 sample: "262K"). */
export const POOL_DIFF = 262_144;

/** Mining counters consistent with uptime and hashrate (a pool share every diff·2^32 hashes). */
export interface ShareCounters {
  readonly accepted: number;
  readonly rejected: number;
  readonly hwErrors: number;
  readonly getworks: number;
  readonly discarded: number;
  readonly bestShare: number;
  readonly diffAccepted: number;
  readonly diffRejected: number;
  readonly totalMh: number;
  /** Lifetime average since the API started, GH/s. */
  readonly avgGhs: number;
}

/** Whole seconds since the miner last booted, sim time (cgminer "Elapsed"). */
export function uptimeS(m: SimMiner): number {
  return Math.floor((m.clocks.sim.nowMs() - m.current().bootMs) / 1000);
}

export function shareCounters(miner: SimMiner, tel: Telemetry, elapsedS: number, mining: boolean): ShareCounters {
  const avgThs = mining ? tel.targetHashrateThs : 0;
  const accepted = Math.floor((elapsedS * avgThs * 1e12) / (POOL_DIFF * 4294967296));
  const rejected = Math.floor(accepted * 0.0008);
  return {
    accepted,
    rejected,
    hwErrors: Math.floor(elapsedS * 0.001 * (mining ? 1 : 0)),
    getworks: Math.floor(elapsedS / 10),
    discarded: Math.floor(elapsedS * 94),
    bestShare: accepted === 0 ? 0 : Math.floor(POOL_DIFF * (10 + 20_000 * unit(miner.seed, 21, Math.floor(elapsedS / 3600)))),
    diffAccepted: accepted * POOL_DIFF,
    diffRejected: rejected * POOL_DIFF,
    totalMh: avgThs * 1e6 * elapsedS,
    avgGhs: avgThs * 1000,
  };
}

/** True while the miner is hashing or about to (not asleep, not booting). */
export function isMiningState(tel: Telemetry): boolean {
  return tel.state === 'mining' || tel.state === 'tuning' || tel.state === 'waking';
}

/** Per-sensor temperature with a stable seeded offset, rounded like the firmware, °C. */
export function sensorC(miner: SimMiner, baseC: number, chain: number, sensor: number, spreadC = 3): number {
  return Math.round(baseC + (unit(miner.seed, 31, chain, sensor) * 2 - 1) * spreadC);
}

/** Per-fan RPM (fans differ by a few percent, like the samples' 6000/5880/5040/5040). */
export function fanRpm(miner: SimMiner, tel: Telemetry, fan: number): number {
  if (tel.fanRpm === 0) return 0;
  const factor = 1 - 0.16 * unit(miner.seed, 41, fan);
  return Math.round((tel.fanRpm * factor) / 60) * 60;
}

/** Per-chain hashrate split with seeded imbalance summing to the total, GH/s. */
export function chainRatesGhs(miner: SimMiner, totalGhs: number, chains: number): number[] {
  const w = Array.from({ length: chains }, (_, i) => 0.95 + 0.1 * unit(miner.seed, 51, i));
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((x) => (totalGhs * x) / sum);
}

/** A stable serial-like string from the miner seed. */
export function serial(miner: SimMiner, prefix: string, len: number, salt = 0): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
  let out = prefix;
  for (let i = 0; i < len; i++) out += alphabet[hash32(miner.seed, 61, salt, i) % alphabet.length];
  return out;
}

/** Fake but stable MAC address. */
export function macAddress(miner: SimMiner, first: string): string {
  return macAddressFromSeed(miner.seed, first);
}

/** The same MAC from the miner's seed alone (what the inventory export knows). */
export function macAddressFromSeed(seed: number, first: string): string {
  const parts = [first];
  for (let i = 0; i < 5; i++) parts.push((hash32(seed, 71, i) & 255).toString(16).padStart(2, '0').toUpperCase());
  return parts.join(':');
}

/** Rounds to `d` decimals as a number. */
export function round(v: number, d = 2): number {
  const f = 10 ** d;
  return Math.round(v * f) / f;
}
