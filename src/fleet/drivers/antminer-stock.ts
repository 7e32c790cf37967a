import type { Capability, StatusReadBack, DriverConfig, DriverFactory, HashrateReader, MinerDriver, MinerState, PowerReader, Sleepable, StatusReader, Telemetry } from '../capabilities.js';
import type { CallOptions } from '../protocols/call.js';
import { AntminerWebClient, ANTMINER_HTTP_PORT, WORK_MODE, workMode } from '../protocols/antminer-web.js';
import { cgminerCommand, section, type CgminerReply } from '../protocols/cgminer.js';
import { isMinerError } from '../protocols/errors.js';
import { hyphenList, num, pickNum, rateUnit, round, str, toThs, type Obj } from '../protocols/values.js';
import { BaseDriver, plausibleTempC, requireNumber } from './base.js';

const ANTMINER_STOCK_CAPS: readonly Capability[] = ['hashrate', 'power', 'status', 'sleep'];

/** bmminer "Mode" value that means asleep on 17-series firmware. */
const MODE_SLEEP_17 = 254;

/** What one bmminer `stats` reply says, before the state is decided. */
export interface BmminerStats {
  model: string | null;
  firmware: string | null;
  hashrateThs: number;
  powerW: number | null;
  tempsC: number[];
  fansRpm: number[];
  /** "Mode" field (2 normal on 19-series, 254 asleep on 17-series), null if absent. */
  mode: number | null;
}

/** Parses a bmminer/cgminer `stats` reply (STATS[0] version block, STATS[1] device). */
export function parseBmminerStats(body: Obj, where: string): BmminerStats {
  const stats = section(body, 'STATS');
  const info = stats.find((s) => 'Type' in s && !('GHS 5s' in s)) ?? stats[0] ?? {};
  const dev = stats.find((s) => 'GHS 5s' in s || 'total rate' in s || 'total_rate' in s) ?? stats[1] ?? {};
  // "Antminer S9\nV1.3.58": the model is the first line.
  const model = str(info.Type)?.split('\n')[0]?.trim() ?? null;
  const miner = str(info.Miner);
  const compile = str(info.CompileTime)?.replace(/\s+/g, ' ');
  const firmware = miner ? `bmminer ${miner}${compile ? ` (${compile})` : ''}` : null;

  const unit = rateUnit(dev.rate_unit) ?? 'GH';
  const ghs = pickNum(dev, 'GHS 5s', 'total rate', 'total_rate', 'GHS av');
  const hashrateThs = round(toThs(requireNumber(ghs, 'hashrate (GHS 5s)', where), unit), 6);

  // Power: S21-era firmware reports "chain_power":"3250 W"; older stock firmware reports none.
  const powerW = pickNum(dev, 'chain_power', 'power', 'Power');

  const tempsC: number[] = [];
  for (let n = 1; n <= 16; n++) {
    const chip = hyphenList(dev[`temp_chip${n}`]);
    const chain = chip && chip.some((t) => t !== 0) ? Math.max(...chip) : num(dev[`temp2_${n}`]);
    if (chain !== null && chain !== 0 && plausibleTempC(chain)) tempsC.push(chain);
  }

  const fanNum = num(dev.fan_num) ?? 0;
  const fans: number[] = [];
  for (let n = 1; n <= 16; n++) {
    const rpm = num(dev[`fan${n}`]);
    if (rpm !== null && rpm > 0) fans.push(rpm);
  }
  // A declared fan that reads 0 RPM is a stopped fan, which matters; pad to fan_num with zeros.
  while (fans.length < fanNum) fans.push(0);

  return { model, firmware, hashrateThs, powerW, tempsC, fansRpm: fans, mode: num(dev.Mode) };
}

/**
 * Decides the state from stats and (when hashing is zero and the web UI is reachable) the work
 * mode: Mode 254 (17-series) or work mode 1 with zero hashrate → sleeping; work mode 0 with zero
 * hashrate → waking (commanded on, not hashing); hashing → mining whatever the mode says, since
 * a machine still hashing still draws power.
 */
export function antminerState(s: Pick<BmminerStats, 'hashrateThs' | 'mode'>, mode: number | null): MinerState {
  if (s.hashrateThs > 0) return 'mining';
  if (s.mode === MODE_SLEEP_17) return 'sleeping';
  if (mode === WORK_MODE.sleep) return 'sleeping';
  if (mode === WORK_MODE.normal) return 'waking';
  return 'unknown';
}

export class AntminerStockDriver extends BaseDriver implements MinerDriver, HashrateReader, PowerReader, StatusReader, Sleepable {
  readonly type = 'antminer-stock';
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(ANTMINER_STOCK_CAPS);
  private readonly web: AntminerWebClient;

  constructor(config: DriverConfig) {
    super(config);
    this.web = new AntminerWebClient({
      host: config.host,
      port: config.ports?.http ?? ANTMINER_HTTP_PORT,
      creds: { username: config.creds?.username ?? 'root', password: config.creds?.password ?? 'root' },
      ...(config.limits ? { limits: config.limits } : {}),
      clock: this.clock,
    });
  }

  private async stats(opts: CallOptions | undefined): Promise<{ reply: CgminerReply; parsed: BmminerStats }> {
    const reply = await cgminerCommand(this.api, 'stats', {}, this.call(opts));
    return { reply, parsed: parseBmminerStats(reply.body, this.where) };
  }

  async readHashrateThs(opts?: CallOptions): Promise<number> {
    return (await this.stats(opts)).parsed.hashrateThs;
  }

  async readPowerW(opts?: CallOptions): Promise<number | null> {
    return (await this.stats(opts)).parsed.powerW;
  }

  async readTelemetry(opts?: CallOptions): Promise<Telemetry> {
    const ctx = this.call(opts);
    const reply = await cgminerCommand(this.api, 'stats', {}, ctx);
    const s = parseBmminerStats(reply.body, this.where);
    let mode: number | null = null;
    if (s.hashrateThs === 0 && s.mode !== MODE_SLEEP_17) {
      // Zero hashrate is ambiguous (asleep, waking, overheated): the web UI's work mode decides.
      try {
        mode = workMode(await this.web.getMinerConf(ctx));
      } catch (err) {
        if (!isMinerError(err) || err.code === 'ABORTED') throw err;
      }
    }
    return this.validTelemetry({ hashrateThs: s.hashrateThs, powerW: s.powerW, state: antminerState(s, mode), tempsC: s.tempsC, fansRpm: s.fansRpm, model: s.model, firmware: s.firmware });
  }

  /**
   * Reads the web configuration: the Digest challenge is cached (later requests skip the 401) and
   * the next sleep/wake within a minute posts it back without reading it again.
   */
  async prepare(opts?: CallOptions): Promise<void> {
    await this.web.getMinerConf(this.call(opts));
  }

  /**
   * Posts sleep mode, then reads stats.cgi's hashrate and the stored work mode on the same
   * keep-alive connection: the state they give together (antminerState, as readTelemetry decides
   * it) is the read-back. Never summary.cgi's rate alone: it was seen at 0 TH/s while cgminer
   * `stats` showed 200 (bmminer restarting under the config write).
   */
  async sleep(opts?: CallOptions): Promise<StatusReadBack | undefined> {
    const rb = await this.web.setWorkModeThenReadBack(this.call(opts), WORK_MODE.sleep);
    if (rb === null) return undefined;
    return { state: antminerState({ hashrateThs: rb.hashrateThs, mode: null }, rb.mode), hashrateThs: rb.hashrateThs, powerW: null };
  }

  wake(opts?: CallOptions): Promise<void> {
    return this.web.setWorkMode(this.call(opts), WORK_MODE.normal);
  }
}

export const antminerStockFactory: DriverFactory = {
  type: 'antminer-stock',
  description: 'Bitmain stock firmware (bmminer): reads over cgminer 4028, sleep/wake over the web CGI with Digest auth',
  capabilities: ANTMINER_STOCK_CAPS,
  defaultPorts: { api: 4028, http: ANTMINER_HTTP_PORT },
  httpCapabilities: ['sleep'],
  create: (config) => new AntminerStockDriver(config),
};
