import type { Capability, DriverConfig, DriverFactory, HashrateReader, MinerDriver, MinerState, PowerReader, Sleepable, StatusReader, Telemetry } from '../capabilities.js';
import type { CallOptions } from '../protocols/call.js';
import { braiinsPause, braiinsResume } from '../protocols/braiins.js';
import { cgminerCommand, section, type CgminerReply } from '../protocols/cgminer.js';
import { num, pickNum, round, str, toThs } from '../protocols/values.js';
import { BaseDriver, plausibleTempC, replyOf, requireNumber } from './base.js';

const BRAIINS_CAPS: readonly Capability[] = ['hashrate', 'power', 'status', 'sleep'];

/**
 * The legacy API has no "paused" flag, so a zero hashrate is read with the last command this
 * driver sent: after `pause` it is sleeping, after `resume` waking; with no command on record
 * (agent restart) it is unknown, which the controller counts at full power until a command
 * (idempotent) settles it.
 */
export function braiinsState(hashrateThs: number, lastCommand: 'pause' | 'resume' | null): MinerState {
  if (hashrateThs > 0) return 'mining';
  if (lastCommand === 'pause') return 'sleeping';
  if (lastCommand === 'resume') return 'waking';
  return 'unknown';
}

export function braiinsTelemetry(replies: Map<string, CgminerReply>, lastCommand: 'pause' | 'resume' | null, where: string): Telemetry {
  const summaryReply = replyOf(replies, 'summary');
  const summary = section(summaryReply.body, 'SUMMARY')[0] ?? {};
  const mhs = pickNum(summary, 'MHS 5s', 'MHS 1m', 'MHS av');
  const hashrateThs = round(toThs(requireNumber(mhs, 'hashrate (MHS 5s)', where), 'MH'), 6);
  const tuner = replies.get('tunerstatus') ? section(replies.get('tunerstatus')?.body ?? {}, 'TUNERSTATUS')[0] : undefined;
  const temps = replies.get('temps') ? section(replies.get('temps')?.body ?? {}, 'TEMPS') : [];
  const fans = replies.get('fans') ? section(replies.get('fans')?.body ?? {}, 'FANS') : [];
  const version = replies.get('version') ? section(replies.get('version')?.body ?? {}, 'VERSION')[0] : undefined;
  const tempsC: number[] = [];
  for (const t of temps) {
    // Chip 0.0 means no chip sensor (S9): use the board reading then.
    const chip = num(t.Chip);
    const v = chip !== null && chip !== 0 ? chip : num(t.Board);
    if (v !== null && v !== 0 && plausibleTempC(v)) tempsC.push(v);
  }
  return {
    hashrateThs,
    powerW: tuner ? pickNum(tuner, 'ApproximateMinerPowerConsumption') : null,
    state: braiinsState(hashrateThs, lastCommand),
    tempsC,
    fansRpm: fans.map((f) => num(f.RPM)).filter((r): r is number => r !== null && r >= 0),
    model: str(version?.Type),
    firmware: str(summaryReply.status.description),
  };
}

export class BraiinsLegacyDriver extends BaseDriver implements MinerDriver, HashrateReader, PowerReader, StatusReader, Sleepable {
  readonly type = 'braiins-legacy';
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(BRAIINS_CAPS);
  private lastCommand: 'pause' | 'resume' | null = null;

  constructor(config: DriverConfig) {
    super(config);
  }

  async readHashrateThs(opts?: CallOptions): Promise<number> {
    const r = await cgminerCommand(this.api, 'summary', {}, this.call(opts));
    const mhs = pickNum(section(r.body, 'SUMMARY')[0] ?? {}, 'MHS 5s', 'MHS 1m', 'MHS av');
    return round(toThs(requireNumber(mhs, 'hashrate (MHS 5s)', this.where), 'MH'), 6);
  }

  async readPowerW(opts?: CallOptions): Promise<number | null> {
    const r = await cgminerCommand(this.api, 'tunerstatus', {}, this.call(opts));
    return pickNum(section(r.body, 'TUNERSTATUS')[0] ?? {}, 'ApproximateMinerPowerConsumption');
  }

  async readTelemetry(opts?: CallOptions): Promise<Telemetry> {
    const replies = await this.readMany(this.call(opts), ['summary'], ['temps', 'fans', 'tunerstatus', 'version']);
    return this.validTelemetry(braiinsTelemetry(replies, this.lastCommand, this.where));
  }

  async sleep(opts?: CallOptions): Promise<undefined> {
    await braiinsPause(this.call(opts), this.api);
    this.lastCommand = 'pause';
  }

  async wake(opts?: CallOptions): Promise<void> {
    await braiinsResume(this.call(opts), this.api);
    this.lastCommand = 'resume';
  }
}

export const braiinsLegacyFactory: DriverFactory = {
  type: 'braiins-legacy',
  description: 'Braiins OS / OS+ legacy cgminer API (BOSminer): pause/resume, tuner power estimate',
  capabilities: BRAIINS_CAPS,
  defaultPorts: { api: 4028 },
  create: (config) => new BraiinsLegacyDriver(config),
};
