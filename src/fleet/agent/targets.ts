/**
 * Where a tick's mining target comes from: a dispatch plan file, the strike rule on a live price
 * feed (dispatch's own `strikeDecide`, the code the back-test runs), or nameplate (signals and the
 * import limit only). A plan that does not cover now, or a feed silent past its timeout, is stale:
 * decide() then applies the configured safe mode.
 */
import { readFile, stat } from 'node:fs/promises';
import { badInput, describeError } from '../../core/errors.js';
import { efficiencyOrder } from '../../dispatch/baseline.js';
import { fleetModel, strikeUsdPerMWh, type FleetModel } from '../../dispatch/fleet-model.js';
import { initialStrikeState, strikeDecide, type StrikeState } from '../../dispatch/strike.js';
import type { Site } from '../../site/types.js';
import { z } from 'zod';
import { loadPlan, planFileSchema, planTargetAt, type LoadedPlan } from './plan-file.js';
import type { PriceSample } from './price-feed.js';
import type { TargetInput, TargetSource } from './types.js';

export interface TargetProvider {
  readonly source: TargetSource;
  /** This tick's target; may re-read the plan file or poll the feed (never throws: stale instead). */
  current(nowMs: number, signal: AbortSignal): Promise<TargetInput>;
  /** For /v1/status. */
  describe(): Record<string, unknown>;
  /** State that must survive a restart (kept in the agent's store), as text; absent when stateless. */
  saveState?(): string;
  /** Restores what `saveState` wrote; a state that no longer fits (the site changed) is ignored. */
  loadState?(text: string): boolean;
}

/** NaN is stored as null (JSON has no NaN). */
const nanNumber = z.number().nullable().transform((v) => v ?? NaN);
const strikeStateSchema = z.object({
  awake: z.array(z.boolean()),
  above: z.array(z.number()),
  below: z.array(z.number()),
  offSinceMs: z.array(nanNumber),
  mw: z.array(nanNumber),
  lastStartMs: nanNumber,
});
/** What the rule keeps across restarts: its state, the state before the last price counted, and that price. */
const savedRuleSchema = z.object({
  v: z.literal(2),
  state: strikeStateSchema,
  base: strikeStateSchema,
  lastObs: z.object({ intervalStartMs: z.number(), priceUsdPerMWh: z.number() }).nullable(),
});

/** No plan, no feed: mine everything the interconnect and the signals allow. */
export class NameplateTarget implements TargetProvider {
  readonly source = 'nameplate' as const;
  current(): Promise<TargetInput> {
    return Promise.resolve({ source: 'nameplate', stale: false, targetMW: Infinity });
  }
  describe(): Record<string, unknown> {
    return { source: 'nameplate' };
  }
}

/** A plan file, re-read whenever it changes on disk (the dispatch engine rewrites it). */
export class PlanFileTarget implements TargetProvider {
  readonly source = 'plan' as const;
  private plan: LoadedPlan | null = null;
  private mtimeMs = -1;
  private error: string | null = null;

  constructor(
    private readonly file: string,
    private readonly siteName: string,
  ) {}

  /** Reads and validates the file now; throws BAD_INPUT with the path (used at start-up). */
  async load(): Promise<void> {
    const st = await stat(this.file);
    const text = await readFile(this.file, 'utf8');
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw badInput(`not valid JSON: ${describeError(err)}`, this.file);
    }
    const p = planFileSchema.safeParse(raw);
    if (!p.success) {
      const i = p.error.issues[0];
      throw badInput(`${i?.path.join('.') || '(root)'}: ${i?.message ?? 'invalid'}`, this.file);
    }
    if (p.data.site !== this.siteName) throw badInput(`plan is for site '${p.data.site}', the agent runs '${this.siteName}'`, `${this.file}: site`);
    this.plan = loadPlan(p.data);
    this.mtimeMs = st.mtimeMs;
    this.error = null;
  }

  async current(nowMs: number): Promise<TargetInput> {
    try {
      const st = await stat(this.file);
      if (st.mtimeMs !== this.mtimeMs) await this.load();
    } catch (err) {
      // A plan that cannot be read is a lost plan: the safe mode applies, never the old numbers.
      this.plan = null;
      this.mtimeMs = -1;
      this.error = describeError(err);
    }
    if (!this.plan) return { source: 'plan', stale: true, reason: `plan file unusable: ${this.error ?? 'not loaded'}` };
    return planTargetAt(this.plan, nowMs);
  }

  describe(): Record<string, unknown> {
    return { source: 'plan', file: this.file, policy: this.plan?.policy ?? null, intervals: this.plan?.startMs.length ?? 0, error: this.error };
  }
}

export interface StrikeRuleOptions {
  /** Fetches the latest price (with its own deadline). */
  fetch: (signal: AbortSignal) => Promise<PriceSample>;
  /** A price whose interval started longer ago than this is stale, ms. */
  staleAfterMs: number;
  /** Poll the feed at most this often, ms. */
  pollMs: number;
  /** AI and other fixed loads at the meter, MW (the rule's headroom is what is left). */
  fixedLoadMW: number;
  /** Settlement interval, minutes (15 in ERCOT); kept for callers, the rule now acts on each price as it arrives. */
  intervalMinutes?: number;
}

/**
 * The strike rule on a live feed, dispatch's own `strikeDecide` (the code the back-test runs):
 * every new price is one observation, acted on when it arrives — a feed that publishes ERCOT's
 * 5-minute SCED prices is acted on every 5 minutes, not at the next 15-minute boundary — and the
 * `sleepAfterIntervals` / `wakeAfterIntervals` counts are counts of the feed's price intervals.
 * A price at or above `dispatch.strike.highStrikeUsdPerMWh` sleeps every fleet on that price alone.
 * A revised price for an interval already counted replaces it (decided again from the counts as
 * they were before that interval). Between prices each tick lets time act (minimum off-times,
 * ramps, a 4CP alert) without counting the price again.
 */
export class StrikeRuleTarget implements TargetProvider {
  readonly source = 'rule' as const;
  private readonly models: FleetModel[];
  private readonly order: number[];
  private state: StrikeState;
  /** The state before the last observation was counted (a revision of that interval re-decides from it). */
  private base: StrikeState;
  private lastObs: { intervalStartMs: number; priceUsdPerMWh: number } | null = null;
  private sample: PriceSample | null = null;
  private lastPollMs = -Infinity;
  private lastError: string | null = null;
  private hashprice: number | undefined;
  /** When the last new price was acted on, UTC ms (for status). */
  private actedAtMs: number | null = null;

  constructor(
    private readonly site: Site,
    private readonly o: StrikeRuleOptions,
  ) {
    if (site.fleets.length === 0) throw badInput('the strike rule needs the site fleets (their strike or break-even); give --plan, or --price-feed none', '--price-feed');
    this.models = site.fleets.map(fleetModel);
    this.order = efficiencyOrder(this.models);
    this.state = initialStrikeState(this.models.length);
    this.base = this.state;
  }

  /**
   * The rule's counters (which fleets run, their hysteresis counts, off-since times), the counts
   * before the last price and that price, as JSON: a restart neither counts a price twice nor
   * forgets that a fleet is in its minimum off-time.
   */
  saveState(): string {
    return JSON.stringify({ v: 2, state: this.state, base: this.base, lastObs: this.lastObs }, (_k, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v));
  }

  loadState(text: string): boolean {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return false;
    }
    const fits = (st: StrikeState): boolean => st.awake.length === this.models.length;
    const saved = savedRuleSchema.safeParse(raw);
    if (saved.success) {
      if (!fits(saved.data.state) || !fits(saved.data.base)) return false;
      this.state = saved.data.state;
      this.base = saved.data.base;
      this.lastObs = saved.data.lastObs;
      return true;
    }
    // Written by an agent that decided once per 15-minute interval: its counts, no price on record.
    const old = strikeStateSchema.safeParse(raw);
    if (!old.success || !fits(old.data)) return false;
    this.state = old.data;
    this.base = old.data;
    return true;
  }

  async current(nowMs: number, signal: AbortSignal): Promise<TargetInput> {
    if (nowMs - this.lastPollMs >= this.o.pollMs) {
      this.lastPollMs = nowMs;
      try {
        this.sample = await this.o.fetch(signal);
        if (this.sample.hashpriceUsdPerPhDay !== undefined) this.hashprice = this.sample.hashpriceUsdPerPhDay;
        this.lastError = null;
      } catch (err) {
        this.lastError = describeError(err);
      }
    }
    const s = this.sample;
    if (!s) return { source: 'rule', stale: true, reason: `no price from the feed yet${this.lastError ? ` (${this.lastError})` : ''}` };
    const ageMs = nowMs - s.intervalStartMs;
    if (ageMs > this.o.staleAfterMs) {
      return { source: 'rule', stale: true, reason: `latest price is for ${new Date(s.intervalStartMs).toISOString()}, older than ${Math.round(this.o.staleAfterMs / 1000)} s${this.lastError ? ` (${this.lastError})` : ''}` };
    }
    const missing = this.models.find((m) => m.fleet.strikeUsdPerMWh === undefined);
    if (missing && this.hashprice === undefined) return { source: 'rule', stale: true, reason: `fleet '${missing.fleet.name}' has no strikeUsdPerMWh and the feed gives no hashprice` };
    const last = this.lastObs;
    const fresh = last === null || s.intervalStartMs > last.intervalStartMs;
    const revised = last !== null && s.intervalStartMs === last.intervalStartMs && s.priceUsdPerMWh !== last.priceUsdPerMWh;
    const obs = (price: number | undefined) => ({
      startMs: nowMs,
      lastPriceUsdPerMWh: price,
      hashpriceUsdPerPhDay: this.hashprice ?? 0,
      fourCpAlert: s.fourCpAlert,
      headroomMW: this.site.interconnect.importLimitMW - this.o.fixedLoadMW,
    });
    const cfg = this.site.dispatch.strike;
    if (fresh) {
      this.base = this.state;
      this.state = strikeDecide(this.models, cfg, this.base, obs(s.priceUsdPerMWh), this.order).state;
      this.lastObs = { intervalStartMs: s.intervalStartMs, priceUsdPerMWh: s.priceUsdPerMWh };
      this.actedAtMs = nowMs;
    } else if (revised) {
      const before = this.state;
      const next = strikeDecide(this.models, cfg, this.base, obs(s.priceUsdPerMWh), this.order).state;
      // A fleet off before and after the revision has been off since the first decision.
      next.offSinceMs = next.offSinceMs.map((t, f) => (Number.isNaN(t) || Number.isNaN(before.offSinceMs[f] as number) ? t : (before.offSinceMs[f] as number)));
      this.state = next;
      this.lastObs = { intervalStartMs: s.intervalStartMs, priceUsdPerMWh: s.priceUsdPerMWh };
      this.actedAtMs = nowMs;
    } else {
      // No new price: only time acts (minimum off-times end, ramps move, a 4CP alert starts or ends).
      this.state = strikeDecide(this.models, cfg, this.state, obs(undefined), this.order).state;
    }
    const targetMW = this.state.mw.reduce((a, b) => a + (Number.isNaN(b) ? 0 : b), 0);
    const high = cfg.highStrikeUsdPerMWh;
    const tripped = high !== undefined && s.priceUsdPerMWh >= high;
    return {
      source: 'rule',
      stale: false,
      targetMW,
      priceUsdPerMWh: s.priceUsdPerMWh,
      priceIntervalStartMs: s.intervalStartMs,
      fleetStrikeUsdPerMWh: this.strikes(),
      note: `strike at ${s.priceUsdPerMWh} USD/MWh (${new Date(s.intervalStartMs).toISOString()})${tripped ? `: at or above the high strike ${high} USD/MWh` : ''}`,
    };
  }

  /** Each fleet's strike as the rule applies it (configured or break-even, plus the site offset), USD/MWh. */
  private strikes(): Record<string, number> {
    const offset = this.site.dispatch.strike.offsetUsdPerMWh ?? 0;
    const out: Record<string, number> = {};
    for (const m of this.models) if (m.fleet.strikeUsdPerMWh !== undefined || this.hashprice !== undefined) out[m.fleet.name] = strikeUsdPerMWh(m, this.hashprice ?? 0) + offset;
    return out;
  }

  describe(): Record<string, unknown> {
    return {
      source: 'rule',
      lastPriceUsdPerMWh: this.sample?.priceUsdPerMWh ?? null,
      lastPriceIntervalStart: this.sample ? new Date(this.sample.intervalStartMs).toISOString() : null,
      lastPriceActedAt: this.actedAtMs === null ? null : new Date(this.actedAtMs).toISOString(),
      highStrikeUsdPerMWh: this.site.dispatch.strike.highStrikeUsdPerMWh ?? null,
      hashpriceUsdPerPhDay: this.hashprice ?? null,
      fleetsAwake: this.state.awake,
      error: this.lastError,
    };
  }
}
