import { normalizeMac } from '../identity.js';
import { checkPowerTarget, type Capability, type DriverConfig, type DriverFactory, type HashrateReader, type MinerDriver, type MinerState, type PowerRangeW, type PowerReader, type PowerTargetable, type PowerTargetResult, type Sleepable, type StatusReader, type Telemetry } from '../capabilities.js';
import { checkCall, type CallContext, type CallOptions } from '../protocols/call.js';
import { section, type CgminerReply } from '../protocols/cgminer.js';
import { isMinerError, MinerError } from '../protocols/errors.js';
import { WhatsminerClient } from '../protocols/whatsminer.js';
import { bool, isObj, pickNum, pickStr, round, str, toThs, type Obj } from '../protocols/values.js';
import { BaseDriver, plausibleTempC, requireNumber } from './base.js';

const WHATSMINER_CAPS: readonly Capability[] = ['hashrate', 'power', 'status', 'sleep', 'power-target'];

/** Without a rated power or configured floor, power targets go down to this share of the limit. */
export const WHATSMINER_DEFAULT_MIN_FRACTION = 0.5;

/** "mineroff" (new firmware) or "btmineroff" (old) from a `status` Msg; null if not said. */
export function whatsminerOff(statusMsg: unknown): boolean | null {
  if (!isObj(statusMsg)) return null;
  return bool(statusMsg.mineroff ?? statusMsg.btmineroff);
}

export function whatsminerState(hashrateThs: number, off: boolean | null): MinerState {
  if (hashrateThs > 0) return 'mining'; // still hashing = still drawing power, whatever was commanded
  if (off === true) return 'sleeping';
  if (off === false) return 'waking';
  return 'unknown';
}

/** Telemetry from `summary` (+ `status` Msg, + DEVDETAILS model when known). */
export function whatsminerTelemetry(summaryBody: Obj, statusMsg: unknown, model: string | null, where: string): Telemetry {
  const s = section(summaryBody, 'SUMMARY')[0] ?? {};
  const mhs = pickNum(s, 'MHS 5s', 'MHS 1m', 'MHS av');
  const hashrateThs = round(toThs(requireNumber(mhs, 'hashrate (MHS 5s)', where), 'MH'), 6);
  const temp = pickNum(s, 'Chip Temp Max', 'Temperature');
  const fans = [pickNum(s, 'Fan Speed In'), pickNum(s, 'Fan Speed Out')].filter((f): f is number => f !== null && f >= 0);
  // "'20200917.22.REL'": firmware quotes its version in single quotes.
  const fw = (pickStr(s, 'Firmware Version') ?? (isObj(statusMsg) ? pickStr(statusMsg, 'Firmware Version', 'FirmwareVersion') : null))?.replace(/^'+|'+$/g, '') ?? null;
  return {
    hashrateThs,
    powerW: pickNum(s, 'Power_RT', 'Power'),
    state: whatsminerState(hashrateThs, whatsminerOff(statusMsg)),
    tempsC: temp !== null && plausibleTempC(temp) ? [temp] : [],
    fansRpm: fans,
    model,
    firmware: fw ? `btminer ${fw}` : null,
    macAddress: normalizeMac(pickStr(s, 'MAC')),
  };
}

export class WhatsminerV2Driver extends BaseDriver implements MinerDriver, HashrateReader, PowerReader, StatusReader, Sleepable, PowerTargetable {
  readonly type = 'whatsminer-v2';
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(WHATSMINER_CAPS);
  readonly client: WhatsminerClient;
  private model: string | null | undefined = undefined;
  private statusUnsupported = false;

  constructor(config: DriverConfig) {
    super(config);
    this.client = new WhatsminerClient(this.api, { clock: this.clock, password: config.creds?.password ?? 'admin' });
  }

  private async summary(ctx: CallContext): Promise<Obj> {
    return (await this.client.readClassic(ctx, 'summary')).body;
  }

  async readHashrateThs(opts?: CallOptions): Promise<number> {
    const s = section(await this.summary(this.call(opts)), 'SUMMARY')[0] ?? {};
    return round(toThs(requireNumber(pickNum(s, 'MHS 5s', 'MHS 1m', 'MHS av'), 'hashrate (MHS 5s)', this.where), 'MH'), 6);
  }

  async readPowerW(opts?: CallOptions): Promise<number | null> {
    return pickNum(section(await this.summary(this.call(opts)), 'SUMMARY')[0] ?? {}, 'Power_RT', 'Power');
  }

  /** Reads an optional command; an error STATUS (old firmware) marks it unsupported. */
  private async optional(ctx: CallContext, read: () => Promise<CgminerReply>): Promise<CgminerReply | null> {
    try {
      return await read();
    } catch (err) {
      if (isMinerError(err) && err.fault === 'status') return null;
      throw err;
    }
  }

  async readTelemetry(opts?: CallOptions): Promise<Telemetry> {
    const ctx = this.call(opts);
    const summary = await this.summary(ctx);
    let statusMsg: unknown = null;
    if (!this.statusUnsupported) {
      const st = await this.optional(ctx, () => this.client.read(ctx, 'status'));
      if (st === null) this.statusUnsupported = true;
      else statusMsg = st.status.msg;
    }
    if (this.model === undefined) {
      const dd = await this.optional(ctx, () => this.client.readClassic(ctx, 'devdetails'));
      this.model = dd ? (str(section(dd.body, 'DEVDETAILS')[0]?.Model) ?? null) : null;
    }
    return this.validTelemetry(whatsminerTelemetry(summary, statusMsg, this.model, this.where));
  }

  /** Fetches a write token ahead of a burst (tokens live 30 min). */
  prepare(opts?: CallOptions): Promise<void> {
    return this.client.prepare(this.call(opts));
  }

  async sleep(opts?: CallOptions): Promise<undefined> {
    await this.client.powerOff(this.call(opts), true);
  }

  async wake(opts?: CallOptions): Promise<void> {
    await this.client.powerOn(this.call(opts));
  }

  /**
   * maxW: the configured rated power, else the miner's current "Power Limit". minW: the configured
   * floor, else half of maxW (an assumption: MicroBT documents no floor; set minPowerW per model).
   */
  async powerTargetRangeW(opts?: CallOptions): Promise<PowerRangeW> {
    return this.range(this.call(opts));
  }

  private async range(ctx: CallContext): Promise<PowerRangeW> {
    checkCall(ctx, this.where); // a configured range needs no I/O, but an aborted call must still fail
    let maxW = this.config.ratedPowerW ?? null;
    if (maxW === null) maxW = pickNum(section(await this.summary(ctx), 'SUMMARY')[0] ?? {}, 'Power Limit');
    if (maxW === null || maxW <= 0) throw new MinerError('unsupported', 'power limit unknown: set ratedPowerW for this miner', { where: this.where });
    const minW = this.config.minPowerW ?? Math.round(maxW * WHATSMINER_DEFAULT_MIN_FRACTION);
    return { minW: Math.min(minW, maxW), maxW };
  }

  async setPowerTargetW(watts: number, opts?: CallOptions): Promise<PowerTargetResult> {
    const ctx = this.call(opts);
    checkPowerTarget(watts, await this.range(ctx), 'powerW');
    const appliedW = Math.round(watts);
    await this.client.adjustPowerLimit(ctx, appliedW);
    return { appliedW };
  }
}

export const whatsminerV2Factory: DriverFactory = {
  type: 'whatsminer-v2',
  description: 'Whatsminer btminer API v2 (4028): plaintext reads, AES-256-ECB power_off/power_on/adjust_power_limit',
  capabilities: WHATSMINER_CAPS,
  defaultPorts: { api: 4028 },
  create: (config) => new WhatsminerV2Driver(config),
};
