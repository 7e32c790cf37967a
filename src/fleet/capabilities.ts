/**
 * What a miner can do, as small interfaces the controller asks for at run time (evcc style). A
 * driver declares its capabilities; the controller uses the type guards below and never branches
 * on a vendor, model or driver type. Units are in every name: W, TH/s, °C, RPM.
 */
import { z } from 'zod';
import { badInput, MulletError } from '../core/errors.js';
import type { Clock } from '../core/time.js';
import type { CallOptions, ExchangeLimits } from './protocols/call.js';

export type { CallOptions } from './protocols/call.js';

export const MINER_STATES = ['mining', 'sleeping', 'waking', 'tuning', 'unknown'] as const;
/**
 * mining: hashing at its setting. sleeping: answering but hashboards off (low power, ~tens of W).
 * waking: commanded to mine, not hashing yet (ramp of minutes). tuning: hashing while moving to a
 * new power target/preset. unknown: the driver cannot tell; the controller must count it at full power.
 */
export type MinerState = (typeof MINER_STATES)[number];

export const CAPABILITIES = ['hashrate', 'power', 'status', 'sleep', 'power-target', 'presets'] as const;
export type Capability = (typeof CAPABILITIES)[number];

const finite = z.number();
const nonNegative = z.number().min(0);

/** Normalised telemetry; zod rejects NaN/Infinity (zod 4 numbers are finite). */
export const telemetrySchema = z.object({
  /** Hashrate, TH/s, the shortest window the device reports (5 s on cgminer). */
  hashrateThs: nonNegative,
  /** Power draw, W, as the device reports it (PSU or estimate); null when it reports none. */
  powerW: nonNegative.nullable(),
  state: z.enum(MINER_STATES),
  /** Temperatures, °C: chip/board sensors as reported (negative on a cold intake). */
  tempsC: z.array(finite),
  /** Fan speeds, RPM. */
  fansRpm: z.array(nonNegative),
  /** Model as the device names it, e.g. 'Antminer S21'; null when it does not say. */
  model: z.string().nullable(),
  /** Firmware/miner software and version, e.g. 'LUXminer 2025.4.8.220305-57b389c7'. */
  firmware: z.string().nullable(),
  /** Control board MAC (aa:bb:cc:dd:ee:ff) when the firmware reports it on the path read: the stable inventory id. */
  macAddress: z.string().nullable().optional(),
});
export type Telemetry = z.infer<typeof telemetrySchema>;

/** Power range a PowerTargetable device accepts, W. */
export interface PowerRangeW {
  minW: number;
  maxW: number;
}

/** A named preset (LuxOS profile, VNish preset) with its nominal power and hashrate when known. */
export interface Preset {
  name: string;
  powerW: number | null;
  hashrateThs: number | null;
}

/** Base of every driver: identity and declared capabilities. */
export interface MinerDriver {
  /** Registry key, e.g. 'luxos'. For logs and inventories only: controllers must not branch on it. */
  readonly type: string;
  readonly host: string;
  readonly capabilities: ReadonlySet<Capability>;
  /** Releases sessions (LuxOS logoff); idempotent. */
  close(opts?: CallOptions): Promise<void>;
  /**
   * Optional: opens the session / fetches the token / primes the auth challenge that writes need,
   * so that a burst of commands that follows costs one round trip each. Safe to call repeatedly.
   */
  prepare?(opts?: CallOptions): Promise<void>;
}

export interface HashrateReader {
  /** Current hashrate, TH/s. */
  readHashrateThs(opts?: CallOptions): Promise<number>;
}

export interface PowerReader {
  /** Current power draw, W; null when the device reports none right now. */
  readPowerW(opts?: CallOptions): Promise<number | null>;
}

export interface StatusReader {
  /** One snapshot of hashrate, power, state, temperatures and fans (one round trip where possible). */
  readTelemetry(opts?: CallOptions): Promise<Telemetry>;
}

/**
 * A status read a driver made on the command's own connection right after it (one TCP handshake
 * instead of two): the same state logic as `readTelemetry` — work mode and hashrate together, never
 * one channel's zero on its own — so the agent weighs it like any other read.
 */
export interface StatusReadBack {
  state: MinerState;
  hashrateThs: number;
  /** W; null when that channel reports none. */
  powerW: number | null;
}

export interface Sleepable {
  /**
   * Hashboards off; resolves when the device accepted the command (not when it is asleep: verify by
   * reading). A driver that could read the full status on the same connection returns it.
   */
  sleep(opts?: CallOptions): Promise<StatusReadBack | undefined>;
  /** Back to mining at the previous setting; resolves on acceptance (the ramp takes minutes). */
  wake(opts?: CallOptions): Promise<void>;
}

export interface PowerTargetResult {
  /** The power target the device was actually set to, W (LuxOS steps to a profile at or below the request). */
  appliedW: number;
}

export interface PowerTargetable {
  /** The range setPowerTargetW accepts, W. */
  powerTargetRangeW(opts?: CallOptions): Promise<PowerRangeW>;
  /** Sets a power target, W; throws BAD_INPUT outside the range (before any I/O). */
  setPowerTargetW(watts: number, opts?: CallOptions): Promise<PowerTargetResult>;
}

export interface PresetSelectable {
  /** Presets the device offers, in increasing power where known. */
  listPresets(opts?: CallOptions): Promise<Preset[]>;
  selectPreset(name: string, opts?: CallOptions): Promise<void>;
}

/**
 * Hashboards and pools as the device reports them: what the console's one-miner view reads on
 * demand (one miner, one click — never every tick, and never decided on).
 */
export const minerHealthDetailSchema = z.object({
  hashboards: z.array(
    z.object({
      index: z.number().int(),
      /** As the firmware says it ('Alive', 'Dead', …); null when it does not. */
      status: z.string().nullable(),
      /** TH/s, the shortest window reported. */
      hashrateThs: nonNegative.nullable(),
      tempC: finite.nullable(),
    }),
  ),
  pools: z.array(
    z.object({
      url: z.string(),
      user: z.string().nullable(),
      status: z.string().nullable(),
      /** Connected by stratum now. */
      active: z.boolean().nullable(),
      accepted: nonNegative.nullable(),
      rejected: nonNegative.nullable(),
    }),
  ),
});
export type MinerHealthDetail = z.infer<typeof minerHealthDetailSchema>;

/**
 * Optional: a device that reports its hashboards and pools (cgminer-style `devs` and `pools`).
 * Detected by the method, not a declared capability: it reads, never changes, the device, and the
 * inventory's capability list stays what the controller may act on.
 */
export interface HealthReader {
  readHealth(opts?: CallOptions): Promise<MinerHealthDetail>;
}
export const canReadHealth = (d: MinerDriver): d is MinerDriver & HealthReader => typeof (d as unknown as Record<string, unknown>).readHealth === 'function';

function has(d: MinerDriver, c: Capability, ...methods: string[]): boolean {
  if (!d.capabilities.has(c)) return false;
  const o = d as unknown as Record<string, unknown>;
  return methods.every((m) => typeof o[m] === 'function');
}

export const canReadHashrate = (d: MinerDriver): d is MinerDriver & HashrateReader => has(d, 'hashrate', 'readHashrateThs');
export const canReadPower = (d: MinerDriver): d is MinerDriver & PowerReader => has(d, 'power', 'readPowerW');
export const canReadStatus = (d: MinerDriver): d is MinerDriver & StatusReader => has(d, 'status', 'readTelemetry');
export const canSleep = (d: MinerDriver): d is MinerDriver & Sleepable => has(d, 'sleep', 'sleep', 'wake');
export const canTargetPower = (d: MinerDriver): d is MinerDriver & PowerTargetable => has(d, 'power-target', 'powerTargetRangeW', 'setPowerTargetW');
export const canSelectPreset = (d: MinerDriver): d is MinerDriver & PresetSelectable => has(d, 'presets', 'listPresets', 'selectPreset');

/** Checks a requested target against a range before any I/O; `where` names the input. */
export function checkPowerTarget(watts: number, range: PowerRangeW, where: string): void {
  if (!Number.isFinite(watts)) throw badInput(`power target must be a finite number of W, got ${watts}`, where);
  if (watts < range.minW || watts > range.maxW) {
    throw badInput(`power target ${watts} W outside the device range ${range.minW}–${range.maxW} W`, where);
  }
}

// ---------------------------------------------------------------------------------------------
// Driver registry keyed by type

/** Network ports a driver talks to; defaults are the firmware's real ports. */
export interface DriverPorts {
  /** cgminer-style API, default 4028. */
  api?: number;
  /** Web UI / CGI, default 80. */
  http?: number;
}

export interface DriverCredentials {
  username?: string;
  password?: string;
}

/** Everything needed to talk to one miner. */
export interface DriverConfig {
  host: string;
  ports?: DriverPorts;
  creds?: DriverCredentials;
  /** Socket limits per exchange (connect/read deadline, reply size cap). */
  limits?: Partial<ExchangeLimits>;
  /** Default overall deadline per call, ms (a call's own timeoutMs wins). */
  callTimeoutMs?: number;
  /** Clock for session bookkeeping (LuxOS idle expiry, Whatsminer token age). */
  clock?: Clock;
  /** Rated/nameplate power when known from the inventory or catalog, W (bounds power targets). */
  ratedPowerW?: number;
  /** Lowest power target to allow, W, when the device does not say. */
  minPowerW?: number;
}

export interface DriverFactory {
  /** Registry key, e.g. 'antminer-stock'. */
  readonly type: string;
  readonly description: string;
  /** What every driver of this type offers (an instance may report null power at run time). */
  readonly capabilities: readonly Capability[];
  readonly defaultPorts: Required<Pick<DriverPorts, 'api'>> & DriverPorts;
  /** Capabilities that go through the web port: lost when discovery finds no web UI. */
  readonly httpCapabilities?: readonly Capability[];
  create(config: DriverConfig): MinerDriver;
}

export class DriverRegistry {
  private readonly byType = new Map<string, DriverFactory>();

  /** Registers a factory; registering a type twice is a programming error. */
  register(factory: DriverFactory): this {
    if (this.byType.has(factory.type)) {
      throw new MulletError('INTERNAL', `driver type '${factory.type}' registered twice`);
    }
    this.byType.set(factory.type, factory);
    return this;
  }

  /** The factory for a type; unknown types are BAD_INPUT listing the known ones. */
  get(type: string, where?: string): DriverFactory {
    const f = this.byType.get(type);
    if (!f) throw badInput(`unknown driver type '${type}'; known types: ${this.types().join(', ') || '(none)'}`, where);
    return f;
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  create(type: string, config: DriverConfig, where?: string): MinerDriver {
    return this.get(type, where).create(config);
  }

  types(): string[] {
    return [...this.byType.keys()].sort();
  }

  factories(): DriverFactory[] {
    return this.types().map((t) => this.byType.get(t) as DriverFactory);
  }
}
