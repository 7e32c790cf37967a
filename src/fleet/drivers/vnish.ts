import type { Capability, DriverConfig, DriverFactory, HashrateReader, MinerDriver, MinerState, PowerReader, StatusReader, Telemetry } from '../capabilities.js';
import type { CallOptions } from '../protocols/call.js';
import { cgminerCommand, section } from '../protocols/cgminer.js';
import { hyphenList, num, pickNum, round, str, toThs, type Obj } from '../protocols/values.js';
import { BaseDriver, plausibleTempC, requireNumber } from './base.js';

/**
 * VNish (Antminer aftermarket firmware), read-only over its cgminer API. Its `stats` names the
 * firmware inside the model ("Antminer S21 Pro (Vnish 1.2.7)"), sends "GHS 5s" as a string,
 * reports power per chain ("chain_consumption1":861 W) and a "state" ("auto-tuning", "mining").
 * `version` answers "Invalid command" (Code 0). Control goes through VNish's REST API with a
 * bearer token, not implemented here.
 */
const VNISH_CAPS: readonly Capability[] = ['hashrate', 'power', 'status'];

export function vnishState(state: string | null, hashrateThs: number): MinerState {
  const s = (state ?? '').toLowerCase();
  if (/tun/.test(s)) return hashrateThs > 0 ? 'tuning' : 'waking';
  if (/mining|running/.test(s)) return hashrateThs > 0 ? 'mining' : 'waking';
  if (/stop|sleep|idle|pause/.test(s)) return hashrateThs > 0 ? 'mining' : 'sleeping';
  if (/start|init|restart|boot/.test(s)) return 'waking';
  return hashrateThs > 0 ? 'mining' : 'unknown';
}

export function vnishTelemetry(body: Obj, where: string): Telemetry {
  const stats = section(body, 'STATS');
  const info = stats[0] ?? {};
  const dev = stats.find((s) => 'GHS 5s' in s || 'total_rate' in s) ?? stats[1] ?? {};
  const type = str(info.Type) ?? '';
  // Bounded: the lazy pattern rescans a long run of spaces from every position (O(n²)); real Types are ~30 characters.
  const m = type.length <= 256 ? /^(.*?)\s*\((vnish[^)]*)\)\s*$/i.exec(type) : null;
  const hashrateThs = round(toThs(requireNumber(pickNum(dev, 'GHS 5s', 'total_rate', 'GHS av'), 'hashrate (GHS 5s)', where), 'GH'), 6);
  let powerW: number | null = null;
  const tempsC: number[] = [];
  for (let n = 1; n <= 16; n++) {
    const w = num(dev[`chain_consumption${n}`]);
    if (w !== null) powerW = (powerW ?? 0) + w;
    const chip = hyphenList(dev[`temp_chip${n}`]);
    const t = chip && chip.some((v) => v !== 0) ? Math.max(...chip) : num(dev[`temp2_${n}`]);
    if (t !== null && t !== 0 && plausibleTempC(t)) tempsC.push(t);
  }
  const fans: number[] = [];
  for (let n = 1; n <= 16; n++) {
    const rpm = num(dev[`fan${n}`]);
    if (rpm !== null && rpm > 0) fans.push(rpm);
  }
  while (fans.length < (num(dev.fan_num) ?? 0)) fans.push(0);
  return {
    hashrateThs,
    powerW,
    state: vnishState(str(dev.state), hashrateThs),
    tempsC,
    fansRpm: fans,
    model: m?.[1] ? m[1] : type || null,
    firmware: m?.[2] ? m[2] : null,
  };
}

export class VnishDriver extends BaseDriver implements MinerDriver, HashrateReader, PowerReader, StatusReader {
  readonly type = 'vnish';
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(VNISH_CAPS);

  constructor(config: DriverConfig) {
    super(config);
  }

  async readTelemetry(opts?: CallOptions): Promise<Telemetry> {
    const r = await cgminerCommand(this.api, 'stats', {}, this.call(opts));
    return this.validTelemetry(vnishTelemetry(r.body, this.where));
  }

  async readHashrateThs(opts?: CallOptions): Promise<number> {
    return (await this.readTelemetry(opts)).hashrateThs;
  }

  async readPowerW(opts?: CallOptions): Promise<number | null> {
    return (await this.readTelemetry(opts)).powerW;
  }
}

export const vnishFactory: DriverFactory = {
  type: 'vnish',
  description: 'VNish firmware on Antminer, read-only over the cgminer API (power from per-chain consumption)',
  capabilities: VNISH_CAPS,
  defaultPorts: { api: 4028 },
  create: (config) => new VnishDriver(config),
};
