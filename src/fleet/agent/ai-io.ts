/**
 * The agent's I/O with the AI front: per AI load of the site file, its actuators (GPU server BMCs or
 * a feed-level target); reads what each draws and the limit in force, splits a load's limit over its
 * devices in proportion to their nameplate (within each device's range), records every action with
 * the contract term it used, and keeps the curtailment hours used this year and the current event's
 * start in the state store (a restart does not reset a contract budget).
 */
import { describeError } from '../../core/errors.js';
import type { Clock } from '../../core/time.js';
import type { AiLoad } from '../../site/types.js';
import type { AiPowerControl, PowerLimitRangeW } from '../ai/control.js';
import type { CallOptions } from '../protocols/call.js';
import type { AiCommand, AiLoadView } from './ai-decide.js';
import type { AgentEventInput } from './events.js';
import { mapBounded } from './pool.js';
import type { AgentStateStore, CommandRecord } from './state-port.js';

export interface AiGroupSpec {
  load: AiLoad;
  devices: readonly AiPowerControl[];
}

interface Device {
  c: AiPowerControl;
  range: PowerLimitRangeW | null;
  powerW: number | null;
  limitW: number | null;
  error: string | null;
}

interface Group {
  load: AiLoad;
  devices: Device[];
  /** A clear was sent: counted at full until read back without a limit. */
  clearing: boolean;
  eventSinceMs: number | null;
  /** What the load drew when the event began, MW at the meter. */
  referenceMW: number | null;
  /** Curtailment time used this year before the current event, ms. */
  usedMs: number;
  year: number;
}

export interface AiIoDeps {
  clock: Clock;
  store: AgentStateStore;
  event: (e: AgentEventInput) => void;
  log: (line: string) => void;
  concurrency: number;
  callTimeoutMs: number;
  hardStop?: AbortSignal | undefined;
}

const year = (ms: number): number => new Date(ms).getUTCFullYear();
const kvUsed = (load: string, y: number): string => `aiUsedMs:${load}:${y}`;
const kvEvent = (load: string): string => `aiEventSince:${load}`;

export class AiIO {
  private constructor(
    private readonly groups: Group[],
    private readonly d: AiIoDeps,
  ) {}

  /** Loads each load's budget used and any event in progress from the store. */
  static async create(specs: readonly AiGroupSpec[], d: AiIoDeps): Promise<AiIO> {
    const now = d.clock.nowMs();
    const groups: Group[] = [];
    for (const s of specs) {
      const [used, event] = await Promise.all([d.store.getKv(kvUsed(s.load.name, year(now))), d.store.getKv(kvEvent(s.load.name))]);
      const ev = event === undefined ? null : (JSON.parse(event) as { sinceMs: number; referenceMW: number });
      groups.push({ load: s.load, devices: s.devices.map((c) => ({ c, range: null, powerW: null, limitW: null, error: null })), clearing: false, eventSinceMs: ev?.sinceMs ?? null, referenceMW: ev?.referenceMW ?? null, usedMs: used === undefined ? 0 : Number(used), year: year(now) });
    }
    return new AiIO(groups, d);
  }

  get empty(): boolean {
    return this.groups.length === 0;
  }

  private opts(): CallOptions {
    return { timeoutMs: this.d.callTimeoutMs, ...(this.d.hardStop ? { signal: this.d.hardStop } : {}) };
  }

  /** Reads every device: power, limit in force, range (once). */
  async read(): Promise<void> {
    const all = this.groups.flatMap((g) => g.devices);
    await mapBounded(all, this.d.concurrency, async (dev) => {
      try {
        dev.range ??= await dev.c.limitRangeW(this.opts());
        dev.powerW = await dev.c.readPowerW(this.opts());
        dev.limitW = await dev.c.readPowerLimitW(this.opts());
        dev.error = null;
      } catch (err) {
        dev.powerW = null;
        dev.error = describeError(err);
      }
    });
    for (const g of this.groups) if (g.clearing && g.devices.every((x) => x.error === null && x.limitW === null)) g.clearing = false;
  }

  /** The views `decideAi` decides on (MW at the meter). */
  views(nowMs: number): AiLoadView[] {
    return this.groups.map((g) => {
      const k = g.load.pue / 1e6;
      const fullMW = g.load.itMW * g.load.pue;
      const reachable = g.devices.length > 0 && g.devices.every((x) => x.powerW !== null);
      const limits = g.devices.map((x) => x.limitW);
      const limited = limits.some((l) => l !== null);
      const limitMW = limited && !g.clearing ? g.devices.reduce((a, x) => a + (x.limitW ?? x.range?.maxW ?? 0), 0) * k : null;
      const floorW = g.devices.reduce((a, x) => a + (x.range?.minW ?? 0), 0);
      const usedMs = g.usedMs + (g.eventSinceMs !== null ? nowMs - g.eventSinceMs : 0);
      return {
        load: g.load,
        fullMW,
        readMW: reachable ? g.devices.reduce((a, x) => a + (x.powerW ?? 0), 0) * k : null,
        limitMW,
        deviceFloorMW: floorW * k,
        controllable: g.devices.length > 0 && g.devices.every((x) => x.range !== null),
        eventSinceMs: g.eventSinceMs,
        referenceMW: g.referenceMW,
        usedHours: usedMs / 3_600_000,
      };
    });
  }

  /** Sends the limits; returns the command rows (device level) for the state store's audit. */
  async apply(cmds: readonly AiCommand[], signalId: string | null): Promise<{ records: CommandRecord[]; failed: number }> {
    const now = this.d.clock.nowMs();
    const work: { g: Group; dev: Device; w: number | null; reason: string }[] = [];
    for (const cmd of cmds) {
      const g = this.groups.find((x) => x.load.name === cmd.load);
      if (!g || g.load.kind === 'firm') continue; // a firm load is never limited, whatever asks
      const totalMaxW = g.devices.reduce((a, x) => a + (x.range?.maxW ?? 0), 0);
      const limitW = cmd.limitMW === null ? null : (cmd.limitMW * 1e6) / g.load.pue;
      for (const dev of g.devices) {
        if (!dev.range) continue;
        const w = limitW === null ? null : Math.min(dev.range.maxW, Math.max(dev.range.minW, (limitW * dev.range.maxW) / Math.max(1, totalMaxW)));
        work.push({ g, dev, w, reason: cmd.reason });
      }
      this.d.log(`AI ${cmd.load}: ${cmd.limitMW === null ? 'limit cleared' : `limit ${cmd.limitMW.toFixed(3)} MW`} — ${cmd.reason}`);
      this.d.event({ type: 'ai', load: cmd.load, limitMW: cmd.limitMW, reason: cmd.reason });
      await this.bookEvent(g, cmd.limitMW === null ? 'end' : 'start', now, this.views(now).find((v) => v.load.name === g.load.name)?.readMW ?? g.load.itMW * g.load.pue);
      if (cmd.limitMW === null) g.clearing = true;
    }
    const records: CommandRecord[] = [];
    let failed = 0;
    const results = await mapBounded(work, this.d.concurrency, async (x) => {
      const t0 = this.d.clock.nowMs();
      if (x.w === null) await x.dev.c.clearPowerLimit(this.opts());
      else await x.dev.c.setPowerLimitW(x.w, this.opts());
      return this.d.clock.nowMs() - t0;
    });
    results.forEach((r, i) => {
      const x = work[i] as (typeof work)[number];
      if (!r.ok) failed++;
      else x.dev.limitW = x.w;
      records.push({
        minerId: `ai:${x.dev.c.id}`,
        kind: x.w === null ? 'ai-clear' : 'ai-limit',
        targetW: x.w === null ? null : Math.round(x.w),
        reason: x.reason.slice(0, 500),
        attempt: 1,
        signalId,
        sentAtMs: now,
        latencyMs: r.ok ? r.value : 0,
        ok: r.ok,
        state: 'done',
        errorCode: r.ok ? null : 'IO',
        errorFault: null,
        errorMessage: r.ok ? null : describeError(r.error).slice(0, 300),
      });
    });
    return { records, failed };
  }

  /** Keeps the year's budget and the event start in the store. */
  private async bookEvent(g: Group, what: 'start' | 'end', now: number, drawnMW: number): Promise<void> {
    if (year(now) !== g.year) {
      g.year = year(now);
      g.usedMs = 0;
    }
    if (what === 'start' && g.eventSinceMs === null) {
      g.eventSinceMs = now;
      g.referenceMW = drawnMW;
      await this.d.store.setKv(kvEvent(g.load.name), JSON.stringify({ sinceMs: now, referenceMW: drawnMW }));
    } else if (what === 'end' && g.eventSinceMs !== null) {
      g.usedMs += now - g.eventSinceMs;
      g.eventSinceMs = null;
      g.referenceMW = null;
      await this.d.store.saveSignals([], { [kvEvent(g.load.name)]: null, [kvUsed(g.load.name, g.year)]: String(g.usedMs) });
    }
  }

  /** For /v1/status. */
  status(nowMs: number): { load: string; kind: string; fullMW: number; readMW: number | null; limitMW: number | null; usedHours: number; eventSince: string | null; devices: number; errors: string[] }[] {
    return this.views(nowMs).map((v, i) => ({
      load: v.load.name,
      kind: v.load.kind,
      fullMW: v.fullMW,
      readMW: v.readMW,
      limitMW: v.limitMW,
      usedHours: Math.round(v.usedHours * 100) / 100,
      eventSince: v.eventSinceMs === null ? null : new Date(v.eventSinceMs).toISOString(),
      devices: this.groups[i]?.devices.length ?? 0,
      errors: (this.groups[i]?.devices ?? []).filter((x) => x.error !== null).map((x) => `${x.c.id}: ${x.error ?? ''}`).slice(0, 10),
    }));
  }

  async close(): Promise<void> {
    await Promise.all(this.groups.flatMap((g) => g.devices.map((x) => x.c.close())));
  }
}
