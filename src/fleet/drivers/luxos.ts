import { normalizeMac } from '../identity.js';
import { checkPowerTarget, type Capability, type DriverConfig, type DriverFactory, type HashrateReader, type MinerDriver, type MinerState, type PowerRangeW, type PowerReader, type PowerTargetable, type PowerTargetResult, type Preset, type PresetSelectable, type Sleepable, type StatusReader, type Telemetry } from '../capabilities.js';
import type { CallOptions } from '../protocols/call.js';
import { section, type CgminerReply } from '../protocols/cgminer.js';
import { MinerError } from '../protocols/errors.js';
import { LuxosClient, type LuxosProfile } from '../protocols/luxos.js';
import { bool, num, pickNum, round, str, toThs, type Obj } from '../protocols/values.js';
import { BaseDriver, plausibleTempC, replyOf, requireNumber } from './base.js';

const LUXOS_CAPS: readonly Capability[] = ['hashrate', 'power', 'status', 'sleep', 'power-target', 'presets'];

/**
 * LuxOS state from `config` and the hashrate: CurtailMode other than "None" (or the PSU off)
 * with zero hashrate → sleeping; a curtailed machine still hashing is still drawing power →
 * mining; CurtailMode "None" and zero hashrate → waking; IsTuning true while hashing → tuning
 * (the firmware is settling a profile).
 */
export function luxosState(config: Obj | undefined, hashrateThs: number): MinerState {
  if (!config) return hashrateThs > 0 ? 'mining' : 'unknown';
  const curtail = (str(config.CurtailMode) ?? 'none').toLowerCase();
  const psuOn = bool(config.IsPowerSupplyOn);
  const curtailed = curtail !== 'none' || psuOn === false;
  if (hashrateThs > 0) return bool(config.IsTuning) === true && !curtailed ? 'tuning' : 'mining';
  return curtailed ? 'sleeping' : 'waking';
}

/** LuxOS telemetry from summary (+power, config, fans, temps, version when present). */
export function luxosTelemetry(replies: Map<string, CgminerReply>, where: string): Telemetry {
  const summary = section(replyOf(replies, 'summary').body, 'SUMMARY')[0] ?? {};
  const ghs = pickNum(summary, 'GHS 5s', 'GHS 1m', 'GHS av');
  const hashrateThs = round(toThs(requireNumber(ghs, 'hashrate (GHS 5s)', where), 'GH'), 6);
  const power = replies.get('power');
  const powerW = power ? num(section(power.body, 'POWER')[0]?.Watts) : null;
  const config = replies.get('config') ? section(replies.get('config')?.body ?? {}, 'CONFIG')[0] : undefined;
  const fans = replies.get('fans') ? section(replies.get('fans')?.body ?? {}, 'FANS') : [];
  const temps = replies.get('temps') ? section(replies.get('temps')?.body ?? {}, 'TEMPS') : [];
  const version = replies.get('version') ? section(replies.get('version')?.body ?? {}, 'VERSION')[0] : undefined;
  // One reading per board: the hottest of its sensors (LuxOS reports corners, older builds Board/Chip).
  const tempsC = temps
    .map((t) => {
      const v = ['Chip', 'Board', 'TopLeft', 'TopRight', 'BottomLeft', 'BottomRight'].map((k) => num(t[k])).filter((x): x is number => x !== null && x !== 0 && plausibleTempC(x));
      return v.length > 0 ? Math.max(...v) : null;
    })
    .filter((t): t is number => t !== null);
  const description = replyOf(replies, 'summary').status.description;
  return {
    hashrateThs,
    powerW,
    state: luxosState(config, hashrateThs),
    tempsC,
    fansRpm: fans.map((f) => num(f.RPM)).filter((r): r is number => r !== null && r >= 0),
    model: str(config?.Model) ?? str(version?.Type),
    firmware: str(version?.LUXminer) ? `LUXminer ${str(version?.LUXminer)}` : description,
    macAddress: normalizeMac(str(config?.MACAddr)),
  };
}

export class LuxosDriver extends BaseDriver implements MinerDriver, HashrateReader, PowerReader, StatusReader, Sleepable, PowerTargetable, PresetSelectable {
  readonly type = 'luxos';
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(LUXOS_CAPS);
  readonly client: LuxosClient;

  constructor(config: DriverConfig) {
    super(config);
    this.client = new LuxosClient(this.api, { clock: this.clock });
  }

  override close(opts?: CallOptions): Promise<void> {
    return this.client.logoff(this.call(opts));
  }

  /** Logs on ahead of a burst of writes (the session then lives 60 s from its last use). */
  async prepare(opts?: CallOptions): Promise<void> {
    await this.client.prepare(this.call(opts));
  }

  async readHashrateThs(opts?: CallOptions): Promise<number> {
    const r = await this.client.read(this.call(opts), 'summary');
    const ghs = pickNum(section(r.body, 'SUMMARY')[0] ?? {}, 'GHS 5s', 'GHS 1m', 'GHS av');
    return round(toThs(requireNumber(ghs, 'hashrate (GHS 5s)', this.where), 'GH'), 6);
  }

  readPowerW(opts?: CallOptions): Promise<number | null> {
    return this.client.powerW(this.call(opts));
  }

  async readTelemetry(opts?: CallOptions): Promise<Telemetry> {
    const replies = await this.readMany(this.call(opts), ['summary'], ['power', 'config', 'fans', 'temps', 'version']);
    return this.validTelemetry(luxosTelemetry(replies, this.where));
  }

  async sleep(opts?: CallOptions): Promise<undefined> {
    await this.client.curtail(this.call(opts), 'sleep');
  }

  async wake(opts?: CallOptions): Promise<void> {
    await this.client.curtail(this.call(opts), 'wakeup');
  }

  private async profilesByPower(opts: CallOptions | undefined): Promise<(LuxosProfile & { watts: number })[]> {
    const profiles = await this.client.profiles(this.call(opts));
    return profiles.filter((p): p is LuxosProfile & { watts: number } => p.watts !== null && p.watts > 0).sort((a, b) => a.watts - b.watts);
  }

  async listPresets(opts?: CallOptions): Promise<Preset[]> {
    const profiles = await this.client.profiles(this.call(opts));
    return profiles
      .map((p) => ({ name: p.name, powerW: p.watts, hashrateThs: p.hashrateThs }))
      .sort((a, b) => (a.powerW ?? Infinity) - (b.powerW ?? Infinity));
  }

  async selectPreset(name: string, opts?: CallOptions): Promise<void> {
    await this.client.profileset(this.call(opts), name);
  }

  /** The range spanned by the device's profiles, W. */
  async powerTargetRangeW(opts?: CallOptions): Promise<PowerRangeW> {
    const p = await this.profilesByPower(opts);
    const lo = p[0];
    const hi = p[p.length - 1];
    if (!lo || !hi) throw new MinerError('unsupported', 'no profiles with a power figure', { where: this.where });
    return { minW: lo.watts, maxW: hi.watts };
  }

  /** Selects the highest-power profile at or below `watts` (profiles are discrete steps). */
  async setPowerTargetW(watts: number, opts?: CallOptions): Promise<PowerTargetResult> {
    const ctx = this.call(opts);
    const profiles = await this.client.profiles(ctx);
    const byPower = profiles.filter((p): p is LuxosProfile & { watts: number } => p.watts !== null && p.watts > 0).sort((a, b) => a.watts - b.watts);
    const lo = byPower[0];
    const hi = byPower[byPower.length - 1];
    if (!lo || !hi) throw new MinerError('unsupported', 'no profiles with a power figure', { where: this.where });
    checkPowerTarget(watts, { minW: lo.watts, maxW: hi.watts }, 'powerW');
    const chosen = [...byPower].reverse().find((p) => p.watts <= watts) ?? lo;
    await this.client.profileset(ctx, chosen.name);
    return { appliedW: chosen.watts };
  }
}

export const luxosFactory: DriverFactory = {
  type: 'luxos',
  description: 'LuxOS (LUXminer): cgminer API 4028 with sessions; curtail sleep/wakeup, profiles as presets and power steps',
  capabilities: LUXOS_CAPS,
  defaultPorts: { api: 4028 },
  create: (config) => new LuxosDriver(config),
};
