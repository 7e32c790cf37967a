import { normalizeMac } from '../identity.js';
import type { Capability, DriverConfig, DriverFactory, HashrateReader, MinerDriver, MinerState, PowerReader, StatusReader, Telemetry } from '../capabilities.js';
import type { CallOptions } from '../protocols/call.js';
import { cgminerCommand, section } from '../protocols/cgminer.js';
import { isMinerError } from '../protocols/errors.js';
import { bracketFields, num, round, str, toThs, type Obj } from '../protocols/values.js';
import { BaseDriver, plausibleTempC, requireNumber } from './base.js';

/**
 * Canaan Avalon, read-only over cgminer 4.11. Everything interesting is packed in one string,
 * `"MM ID0":"Ver[15-194-…] … SYSTEMSTATU[Work: In Work, Hash Board: 3 ] … Fan1[4275] … TAvg[70]
 * TMax[78] … WALLPOWER[3731] … GHSspd[199241.07] … SoftOFF[0] …"` (GH/s, W, RPM, °C); the Avalon
 * Q names it "MM ID0:Summary". `When` is seconds since boot (the clock is often not set).
 * Soft-off/on (`ascset 0,softoff`) exists but answers STATUS "I" with a scheduled time; control is
 * left out until it can be verified against hardware.
 */
const AVALON_CAPS: readonly Capability[] = ['hashrate', 'power', 'status'];

export function avalonState(systemStatus: string | null, hashrateThs: number): MinerState {
  if (hashrateThs > 0) return 'mining';
  const s = (systemStatus ?? '').toLowerCase();
  if (s.includes('idle')) return 'sleeping';
  if (s.includes('work')) return 'waking';
  return 'unknown';
}

export function avalonTelemetry(statsBody: Obj, version: Obj | undefined, where: string): Telemetry {
  const stats = section(statsBody, 'STATS');
  let mm = new Map<string, string>();
  for (const s of stats) {
    const key = Object.keys(s).find((k) => k.startsWith('MM ID'));
    if (key !== undefined && typeof s[key] === 'string') {
      mm = bracketFields(s[key]);
      break;
    }
  }
  const ghs = num(mm.get('GHSspd')) ?? num(mm.get('GHSmm'));
  const hashrateThs = round(toThs(requireNumber(ghs, 'hashrate (GHSspd)', where), 'GH'), 6);
  const fans: number[] = [];
  for (let n = 1; n <= 8; n++) {
    const f = num(mm.get(`Fan${n}`));
    if (f !== null) fans.push(f);
  }
  const tmax = num(mm.get('TMax'));
  const tavg = num(mm.get('TAvg'));
  const tempsC = [tmax, tavg].filter((t): t is number => t !== null && t !== 0 && plausibleTempC(t));
  return {
    hashrateThs,
    powerW: num(mm.get('WALLPOWER')),
    state: avalonState(mm.get('SYSTEMSTATU') ?? null, hashrateThs),
    tempsC,
    fansRpm: fans,
    model: str(version?.PROD) ?? str(version?.MODEL),
    firmware: str(version?.VERSION) ? `Avalon ${str(version?.VERSION)}` : (str(version?.CGMiner) ?? null),
    macAddress: normalizeMac(str(version?.MAC)),
  };
}

export class AvalonDriver extends BaseDriver implements MinerDriver, HashrateReader, PowerReader, StatusReader {
  readonly type = 'avalon';
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(AVALON_CAPS);
  private version: Obj | undefined | null = null;

  constructor(config: DriverConfig) {
    super(config);
  }

  async readTelemetry(opts?: CallOptions): Promise<Telemetry> {
    const ctx = this.call(opts);
    if (this.version === null) {
      try {
        this.version = section((await cgminerCommand(this.api, 'version', {}, ctx)).body, 'VERSION')[0];
      } catch (err) {
        if (!isMinerError(err) || err.fault !== 'status') throw err;
        this.version = undefined;
      }
    }
    const r = await cgminerCommand(this.api, 'stats', {}, ctx);
    return this.validTelemetry(avalonTelemetry(r.body, this.version, this.where));
  }

  async readHashrateThs(opts?: CallOptions): Promise<number> {
    return (await this.readTelemetry(opts)).hashrateThs;
  }

  async readPowerW(opts?: CallOptions): Promise<number | null> {
    return (await this.readTelemetry(opts)).powerW;
  }
}

export const avalonFactory: DriverFactory = {
  type: 'avalon',
  description: 'Canaan Avalon (cgminer 4.11), read-only: hashrate, wall power, state from the MM ID0 string',
  capabilities: AVALON_CAPS,
  defaultPorts: { api: 4028 },
  create: (config) => new AvalonDriver(config),
};
