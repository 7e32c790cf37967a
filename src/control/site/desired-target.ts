/**
 * The desired state as the agent's target: wraps the site's own target (plan file, price rule or
 * nameplate) and applies what the center wants — a mode, a mining cap, AI levels — as one more
 * TargetProvider, so decide() keeps every safety rule (import limit, firm AI, restore pacing) and
 * the center can only ask for less mining, or for the site's own plan. Partition: while the center is
 * lost the last desired state holds for `holdMs`, then the configured fallback applies:
 *   price-only — the site's own target (its price rule or plan), as if no center existed;
 *   hold       — keep the last desired state (a grid obligation the center committed);
 *   safe-mode  — the target is stale: the agent's safe mode (hold the last safe level, or curtail all).
 * Time comes from the agent's clock (durations only: a wrong wall clock does not change them).
 */
import type { TargetProvider } from '../../fleet/agent/targets.js';
import type { TargetInput } from '../../fleet/agent/types.js';
import type { Fallback } from '../connect.js';
import type { DesiredState, LinkState } from '../wire.js';

export interface Applied {
  desired: DesiredState | null;
  revision: number | null;
  state: LinkState['state'];
  applied: LinkState['applied'];
  lostForMs: number | null;
}

export class ControlledTarget implements TargetProvider {
  readonly source: TargetProvider['source'];
  private desired: DesiredState | null = null;
  private revision: number | null = null;
  /** When the center was lost (agent clock, ms); null while connected. */
  private lostAtMs: number | null;
  saveState?: () => string;
  loadState?: (text: string) => boolean;

  constructor(
    private readonly inner: TargetProvider,
    private readonly o: { holdMs: number; fallback: Fallback },
    /** A site starts without the center (lost since now) until it connects. */
    startMs: number,
  ) {
    this.source = inner.source;
    this.lostAtMs = startMs;
    // The wrapped target's restart memory stays under its own key (`targetState:<source>`).
    const save = inner.saveState?.bind(inner);
    const load = inner.loadState?.bind(inner);
    if (save) this.saveState = save;
    if (load) this.loadState = load;
  }

  /** A new desired state (null: deleted at the center, so the site's own target). */
  setDesired(d: DesiredState | null, revision: number | null): void {
    this.desired = d;
    this.revision = revision;
  }

  /** The center is reachable (true) or lost since `nowMs` (false; an earlier loss keeps its time). */
  setConnected(connected: boolean, nowMs: number): void {
    if (connected) this.lostAtMs = null;
    else this.lostAtMs ??= nowMs;
  }

  /** What applies at `nowMs` and why. */
  applied(nowMs: number): Applied {
    const lostForMs = this.lostAtMs === null ? null : Math.max(0, nowMs - this.lostAtMs);
    const state: LinkState['state'] = lostForMs === null ? 'connected' : lostForMs <= this.o.holdMs ? 'holding' : 'fallback';
    const base = { desired: this.desired, revision: this.revision, state, lostForMs };
    if (!this.desired) return { ...base, applied: 'none' };
    if (state !== 'fallback') return { ...base, applied: 'desired' };
    return { ...base, applied: this.o.fallback };
  }

  /** When the hold ends (the agent should tick then), UTC ms on the agent clock; undefined when not holding. */
  holdEndsAtMs(): number | undefined {
    return this.lostAtMs === null || !this.desired ? undefined : this.lostAtMs + this.o.holdMs + 1;
  }

  async current(nowMs: number, signal: AbortSignal): Promise<TargetInput> {
    const a = this.applied(nowMs);
    const d = a.desired;
    const own = await this.inner.current(nowMs, signal);
    const ends = this.holdEndsAtMs();
    const withHoldEnd = (t: TargetInput): TargetInput => (ends !== undefined && ends > nowMs && (t.nextChangeAtMs === undefined || ends < t.nextChangeAtMs) ? { ...t, nextChangeAtMs: ends } : t);
    if (!d || a.applied === 'none' || a.applied === 'price-only') return own;
    if (a.applied === 'safe-mode') return { source: this.inner.source, stale: true, reason: `center unreachable for ${Math.round((a.lostForMs ?? 0) / 1000)} s (longer than holdS): fallback safe-mode` };
    const note = `control rev ${a.revision ?? '?'} mode ${d.mode}${d.planRef ? ` plan ${d.planRef}` : ''}${a.state === 'connected' ? '' : ` (${a.state}: center lost ${Math.round((a.lostForMs ?? 0) / 1000)} s)`}`;
    const t: TargetInput = d.mode === 'auto' ? own : { source: this.inner.source, stale: false, targetMW: d.mode === 'curtail-all' ? 0 : (d.targetMW ?? 0), note };
    if (t.stale) return withHoldEnd(t);
    const targetMW = d.capMW !== undefined ? Math.min(t.targetMW, d.capMW) : t.targetMW;
    const aiMW = d.aiLimitsMW ? mergeAi(t.aiMW, d.aiLimitsMW) : t.aiMW;
    return withHoldEnd({ ...t, targetMW, ...(aiMW ? { aiMW } : {}), note: t.note !== undefined && d.mode === 'auto' ? `${t.note}; ${note}` : note });
  }

  describe(): Record<string, unknown> {
    return { ...this.inner.describe(), control: { desiredRevision: this.revision, mode: this.desired?.mode ?? null, fallback: this.o.fallback, holdS: this.o.holdMs / 1000 } };
  }
}

/** The lower of the plan's and the center's level per AI load. */
function mergeAi(plan: Readonly<Record<string, number>> | undefined, center: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = { ...plan };
  for (const [k, v] of Object.entries(center)) out[k] = Math.min(out[k] ?? Infinity, v);
  return out;
}
