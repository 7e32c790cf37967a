import { systemClock, type Clock } from '../../core/time.js';
import { minerHealthDetailSchema, telemetrySchema, type Capability, type DriverConfig, type MinerHealthDetail, type Telemetry } from '../capabilities.js';
import { DEFAULT_CALL_TIMEOUT_MS, hostPort, startCall, type CallContext, type CallOptions, type ExchangeLimits } from '../protocols/call.js';
import { cgminerCommand, cgminerMulti, CGMINER_PORT, section, type CgminerEndpoint, type CgminerReply } from '../protocols/cgminer.js';
import { bool, pick, pickNum, pickStr } from '../protocols/values.js';
import { isMinerError, MinerError } from '../protocols/errors.js';

/** Shared plumbing for drivers: endpoints, deadlines, telemetry validation, multi-command fallback. */
export abstract class BaseDriver {
  abstract readonly type: string;
  abstract readonly capabilities: ReadonlySet<Capability>;
  readonly host: string;
  protected readonly api: CgminerEndpoint;
  protected readonly limits: Partial<ExchangeLimits> | undefined;
  protected readonly clock: Clock;
  private readonly callTimeoutMs: number;
  /** Set once a device rejects `+`-joined commands; later reads go one command at a time. */
  private multiUnsupported = false;

  constructor(protected readonly config: DriverConfig, defaultApiPort = CGMINER_PORT) {
    this.host = config.host;
    this.limits = config.limits;
    this.api = { host: config.host, port: config.ports?.api ?? defaultApiPort, ...(config.limits ? { limits: config.limits } : {}) };
    this.clock = config.clock ?? systemClock;
    this.callTimeoutMs = config.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  }

  get where(): string {
    return hostPort(this.api.host, this.api.port ?? CGMINER_PORT);
  }

  protected call(opts: CallOptions | undefined): CallContext {
    return startCall(opts, this.callTimeoutMs);
  }

  close(_opts?: CallOptions): Promise<void> {
    return Promise.resolve();
  }

  /** Validates normalised telemetry; a NaN or Infinity that slipped through is a PARSE error. */
  protected validTelemetry(t: Telemetry): Telemetry {
    const r = telemetrySchema.safeParse(t);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new MinerError('bad-value', `invalid telemetry at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`, { where: this.where });
    }
    return r.data;
  }

  /**
   * Hashboards (`devs`: one entry per chain, 'MHS 5s' and its temperature) and pools (`pools`), both
   * optional: a firmware without one of them reports it empty. For the console's one-miner view.
   */
  async readHealth(opts?: CallOptions): Promise<MinerHealthDetail> {
    const replies = await this.readMany(this.call(opts), [], ['devs', 'pools']);
    const devs = replies.get('devs');
    const pools = replies.get('pools');
    const mhs = (o: Record<string, unknown>): number | null => {
      const v = pickNum(o, 'MHS 5s', 'MHS 1m', 'MHS av');
      return v === null ? null : v / 1e6;
    };
    const detail = {
      hashboards: devs ? section(devs.body, 'DEVS').map((o, i) => ({ index: pickNum(o, 'ASC', 'ID', 'PGA') ?? i, status: pickStr(o, 'Status'), hashrateThs: mhs(o), tempC: pickNum(o, 'Temperature', 'Chip Temp Avg', 'Temp') })) : [],
      pools: pools ? section(pools.body, 'POOLS').map((o) => ({ url: pickStr(o, 'URL') ?? '', user: pickStr(o, 'User'), status: pickStr(o, 'Status'), active: bool(pick(o, 'Stratum Active')), accepted: pickNum(o, 'Accepted'), rejected: pickNum(o, 'Rejected') })) : [],
    };
    const r = minerHealthDetailSchema.safeParse(detail);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new MinerError('bad-value', `invalid hashboard/pool report at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`, { where: this.where });
    }
    return r.data;
  }

  /**
   * Reads several commands in one round trip (`a+b+c`) when the firmware joins them, else one by
   * one. `optional` commands may be missing (Invalid command) without failing the read.
   */
  protected async readMany(ctx: CallContext, required: readonly string[], optional: readonly string[] = []): Promise<Map<string, CgminerReply>> {
    const opt = optional.filter((c) => !this.unknownCommands.has(c));
    const all = [...required, ...opt];
    let fellBack = false;
    if (!this.multiUnsupported && all.length > 1) {
      try {
        return await cgminerMulti(this.api, all, {}, ctx);
      } catch (err) {
        if (!isMinerError(err) || (err.fault !== 'status' && err.fault !== 'garbage')) throw err;
        fellBack = true; // joining unsupported, or one optional command unknown: learn which below
      }
    }
    const out = new Map<string, CgminerReply>();
    for (const c of required) out.set(c, await cgminerCommand(this.api, c, {}, ctx));
    let learned = false;
    for (const c of opt) {
      try {
        out.set(c, await cgminerCommand(this.api, c, {}, ctx));
      } catch (err) {
        if (!isMinerError(err) || err.fault !== 'status') throw err;
        this.unknownCommands.add(c);
        learned = true;
      }
    }
    if (fellBack && !learned) this.multiUnsupported = true;
    return out;
  }

  /** Optional commands this device answered with an error; never asked again. */
  private readonly unknownCommands = new Set<string>();
}

/** The section list of a reply or []: `sectionOf(replies, 'summary', 'SUMMARY')`. */
export function replyOf(replies: Map<string, CgminerReply>, command: string): CgminerReply {
  const r = replies.get(command);
  if (!r) throw new MinerError('garbage', `no reply to '${command}'`, { where: command });
  return r;
}

/** Keeps plausible sensor readings (°C); -83 and 255 are disconnected-sensor values. */
export function plausibleTempC(t: number): boolean {
  return t > -40 && t < 150;
}

/** A hashrate reading that must exist: absent/non-finite → PARSE bad-value. */
export function requireNumber(v: number | null, what: string, where: string): number {
  if (v === null) throw new MinerError('bad-value', `${what} missing or not a finite number`, { where });
  return v;
}
