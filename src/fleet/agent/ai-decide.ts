/**
 * The AI part of a tick's decision (pure): which AI loads to limit, to what, and when to lift the
 * limits — always within each load's contract, after mining, and lifted before any miner wakes.
 *
 * Mining is the first flexible load: `decide()` sheds it. The AI front is asked only for what mining
 * cannot give: a signal's reduction beyond the mining baseline, the plan's AI target, or what the
 * import limit needs with every miner asleep and every AI load at full (computed with AI at full, so
 * a limit that makes room is not released the moment it works — no flip-flop). Only `capped` loads are ever
 * limited, and only within their terms: never below full × (1 − maxReductionPct), not before the
 * notice has run, not for longer than one event may last, not beyond the hours left this year.
 * Firm and deferrable loads are never sent a limit here (deferrable energy is the dispatcher's
 * business). Cheapest reduction first (`usdPerMWhReduced`). MW at the meter throughout.
 */
import type { AiLoad } from '../../site/types.js';

export interface AiLoadView {
  load: AiLoad;
  /** Full power at the meter, MW (IT × PUE). */
  fullMW: number;
  /** Read power now, MW at the meter; null when unread or unreachable. */
  readMW: number | null;
  /** The limit the devices report in force, MW at the meter; null when none. */
  limitMW: number | null;
  /** The lowest limit the devices accept, MW at the meter (sum of device minimums). */
  deviceFloorMW: number;
  /** The load has actuators the agent can command. */
  controllable: boolean;
  /** When the current curtailment event began, UTC ms; null when not limited. */
  eventSinceMs: number | null;
  /** What the load drew when the current event began, MW at the meter (reductions are from it); null outside events. */
  referenceMW: number | null;
  /** Curtailment used this calendar year, hours (including the current event). */
  usedHours: number;
}

export interface AiRequest {
  nowMs: number;
  /** A signal's reduction beyond what mining can give, MW; and when the signal arrived (notice). */
  signal: { reductionMW: number; receivedAtMs: number; id: string } | null;
  /** What the import limit needs from AI with every miner asleep and AI at full, MW. */
  limitNeedMW: number;
  /** The plan's AI level per load name, MW at the meter (a dispatcher that plans AI flexibility). */
  planMW?: Readonly<Record<string, number>>;
}

export interface AiCommand {
  load: string;
  /** The limit to set, MW at the meter; null clears it. */
  limitMW: number | null;
  /** Why, with the contract term used (for the log and the audit). */
  reason: string;
}

export interface AiDecision {
  commands: AiCommand[];
  /** MW the AI front will give (sum of full − limit over limited loads), at the meter. */
  reducedMW: number;
  /** MW asked of AI that its contracts could not give. */
  unmetMW: number;
  /** AI limits are being lifted this decision: miners wait (AI is restored first). */
  restoringAi: boolean;
  /** Per load: why it cannot be curtailed now, when it cannot. */
  blocked: Record<string, string>;
}

/** Counted power of an AI load for the import limit: the cap once read back under it, else full. */
/** Power read within this fraction above a limit counts as the limit in effect (a cap settles exponentially). */
export const AI_LIMIT_TOLERANCE = 0.02;

/** True when the load has a limit and its read power shows it in effect. */
export function aiLimitInEffect(v: Pick<AiLoadView, 'limitMW' | 'readMW'>): boolean {
  return v.limitMW !== null && v.readMW !== null && v.readMW <= v.limitMW * (1 + AI_LIMIT_TOLERANCE) + 1e-6;
}

export function countedAiMW(v: AiLoadView): number {
  if (v.limitMW === null) return Math.max(v.fullMW, v.readMW ?? 0);
  const settled = aiLimitInEffect(v);
  return settled ? Math.max(v.limitMW, v.readMW ?? 0) : Math.max(v.fullMW, v.readMW ?? 0);
}

function contractFloorMW(v: AiLoadView): number {
  if (v.load.kind !== 'capped') return v.fullMW;
  return Math.max(v.deviceFloorMW, v.fullMW * (1 - v.load.maxReductionPct / 100));
}

/** Why the load cannot be curtailed (more) now, or null when it can. */
export function aiBlocked(v: AiLoadView, nowMs: number, signalReceivedAtMs: number | null): string | null {
  const l = v.load;
  if (l.kind === 'firm') return 'firm: never curtailed';
  if (l.kind === 'deferrable') return 'deferrable: follows the plan only';
  if (!v.controllable) return 'no actuator configured';
  if (l.maxReductionPct <= 0) return 'contract allows no reduction';
  if (v.usedHours >= l.maxHoursPerYear) return `hours budget used (${l.maxHoursPerYear} h/year)`;
  if (v.eventSinceMs !== null && nowMs - v.eventSinceMs >= (l.maxEventMinutes ?? 240) * 60_000) return `event limit reached (${l.maxEventMinutes ?? 240} min)`;
  const notice = (l.noticeMinutes ?? 0) * 60_000;
  if (notice > 0 && v.eventSinceMs === null && (signalReceivedAtMs === null || nowMs - signalReceivedAtMs < notice)) return `notice of ${l.noticeMinutes ?? 0} min not yet given`;
  return null;
}

function contractNote(v: AiLoadView): string {
  const l = v.load;
  if (l.kind !== 'capped') return '';
  return `contract: up to ${l.maxReductionPct} % of ${v.fullMW.toFixed(3)} MW, ${Math.max(0, l.maxHoursPerYear - v.usedHours).toFixed(1)} of ${l.maxHoursPerYear} h/year left, events ≤ ${l.maxEventMinutes ?? 240} min, notice ${l.noticeMinutes ?? 0} min`;
}

export function decideAi(loads: readonly AiLoadView[], req: AiRequest): AiDecision {
  const blocked: Record<string, string> = {};
  const commands: AiCommand[] = [];
  let need = Math.max(0, req.signal?.reductionMW ?? 0) + Math.max(0, req.limitNeedMW);
  const why = req.signal && req.signal.reductionMW > 0 ? `signal ${req.signal.id} asks ${req.signal.reductionMW.toFixed(3)} MW beyond mining` : `the import limit needs ${req.limitNeedMW.toFixed(3)} MW more than mining can give`;
  // Loads already limited keep their reduction first (no churn), then the cheapest.
  const order = [...loads].sort((a, b) => Number(b.limitMW !== null) - Number(a.limitMW !== null) || reducedCost(a) - reducedCost(b));
  const target = new Map<string, number | null>();
  for (const v of order) {
    const plan = req.planMW?.[v.load.name];
    const reason = aiBlocked(v, req.nowMs, req.signal?.receivedAtMs ?? null);
    if (reason !== null) {
      blocked[v.load.name] = reason;
      // A load that must stop being curtailed (budget or event limit) is released.
      target.set(v.load.name, null);
      continue;
    }
    const floor = contractFloorMW(v);
    // A reduction is from what the load drew before the event (its jobs rarely run at nameplate):
    // the reference is kept for the whole event, so a limit never ratchets down tick after tick.
    const drawn = Math.min(v.fullMW, v.referenceMW ?? v.readMW ?? v.fullMW);
    let limit: number | null = null;
    if (need > 1e-6) {
      const give = Math.min(need, drawn - floor);
      if (give > 1e-6) {
        limit = drawn - give;
        need -= give;
      }
    }
    if (plan !== undefined && plan < v.fullMW - 1e-6) limit = Math.max(floor, Math.min(limit ?? Infinity, plan));
    target.set(v.load.name, limit);
  }
  let reducedMW = 0;
  let restoringAi = false;
  for (const v of loads) {
    const t = target.get(v.load.name) ?? null;
    if (t !== null) reducedMW += v.fullMW - t;
    if (v.load.kind === 'firm' || !v.controllable) continue; // never a command to a firm load
    const same = t === null ? v.limitMW === null : v.limitMW !== null && Math.abs(v.limitMW - t) < Math.max(0.0005, 0.005 * v.fullMW);
    if (same) continue;
    if (t === null) {
      restoringAi = true;
      commands.push({ load: v.load.name, limitMW: null, reason: blocked[v.load.name] ? `released: ${blocked[v.load.name] ?? ''}` : 'no longer needed: AI is restored before any miner wakes' });
    } else {
      const plan = req.planMW?.[v.load.name];
      const r = plan !== undefined && t >= plan - 1e-9 ? `plan asks ${plan.toFixed(3)} MW` : why;
      commands.push({ load: v.load.name, limitMW: t, reason: `${r}; limited to ${t.toFixed(3)} MW (−${(((v.fullMW - t) / v.fullMW) * 100).toFixed(1)} %); ${contractNote(v)}` });
    }
  }
  return { commands, reducedMW, unmetMW: need > 1e-6 ? need : 0, restoringAi, blocked };
}

function reducedCost(v: AiLoadView): number {
  return v.load.kind === 'capped' ? v.load.usdPerMWhReduced : Infinity;
}
