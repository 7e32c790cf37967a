/**
 * Where a tick's mining target comes from: a dispatch plan file, the strike rule on a live price
 * feed (dispatch's own `strikeDecide`, the code the back-test runs), or nameplate (signals and the
 * import limit only). A plan that does not cover now, or a feed silent past its timeout, is stale:
 * decide() then applies the configured safe mode.
 */
import { readFile, stat } from 'node:fs/promises';
import { badInput, describeError } from '../../core/errors.js';
import { efficiencyOrder } from '../../dispatch/baseline.js';
import { fleetModel, type FleetModel } from '../../dispatch/fleet-model.js';
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
  /** Settlement interval, minutes (15 in ERCOT). */
  intervalMinutes?: number;
}

/** The strike rule on a live feed: one strikeDecide per settlement interval, as in the back-test. */
export class StrikeRuleTarget implements TargetProvider {
  readonly source = 'rule' as const;
  private readonly models: FleetModel[];
  private readonly order: number[];
  private state: StrikeState;
  private sample: PriceSample | null = null;
  private lastPollMs = -Infinity;
  private lastError: string | null = null;
  private hashprice: number | undefined;
  private readonly intervalMs: number;

  constructor(
    private readonly site: Site,
    private readonly o: StrikeRuleOptions,
  ) {
    if (site.fleets.length === 0) throw badInput('the strike rule needs the site fleets (their strike or break-even); give --plan, or --price-feed none', '--price-feed');
    this.models = site.fleets.map(fleetModel);
    this.order = efficiencyOrder(this.models);
    this.state = initialStrikeState(this.models.length);
    this.intervalMs = (o.intervalMinutes ?? 15) * 60_000;
  }

  /**
   * The rule's counters (which fleets run, their hysteresis counts, off-since times, the last
   * interval decided) as JSON: a restart mid-interval neither decides the interval twice nor forgets
   * that a fleet is in its minimum off-time.
   */
  saveState(): string {
    return JSON.stringify(this.state, (_k, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v));
  }

  loadState(text: string): boolean {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return false;
    }
    const p = strikeStateSchema.safeParse(raw);
    if (!p.success || p.data.awake.length !== this.models.length) return false;
    this.state = p.data;
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
    const startMs = Math.floor(nowMs / this.intervalMs) * this.intervalMs;
    if (startMs !== this.state.lastStartMs) {
      const d = strikeDecide(
        this.models,
        this.site.dispatch.strike,
        this.state,
        { startMs, lastPriceUsdPerMWh: s.priceUsdPerMWh, hashpriceUsdPerPhDay: this.hashprice ?? 0, fourCpAlert: s.fourCpAlert, headroomMW: this.site.interconnect.importLimitMW - this.o.fixedLoadMW },
        this.order,
      );
      this.state = d.state;
    }
    const targetMW = this.state.mw.reduce((a, b) => a + (Number.isNaN(b) ? 0 : b), 0);
    return { source: 'rule', stale: false, targetMW, note: `strike at ${s.priceUsdPerMWh} USD/MWh (${new Date(s.intervalStartMs).toISOString()})` };
  }

  describe(): Record<string, unknown> {
    return {
      source: 'rule',
      lastPriceUsdPerMWh: this.sample?.priceUsdPerMWh ?? null,
      lastPriceIntervalStart: this.sample ? new Date(this.sample.intervalStartMs).toISOString() : null,
      hashpriceUsdPerPhDay: this.hashprice ?? null,
      fleetsAwake: this.state.awake,
      error: this.lastError,
    };
  }
}
