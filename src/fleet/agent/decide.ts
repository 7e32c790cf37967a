/**
 * The agent's pure decision core: one snapshot of the fleet + the tick's inputs → the commands
 * that bring mining within the allowed MW. No I/O, no clock (time comes in `inputs.nowMs`).
 *
 * allowed mining MW = min(plan/rule target (or safe mode), import limit − AI − other − margin −
 * metered load the estimate cannot explain, signal cap). Curtail least efficient first (the
 * marginal machine gets a power target when that sheds enough, else machines sleep); restore most
 * efficient first in paced batches. A miner whose state is unknown counts at full nameplate; a
 * command not seen in effect within the confirm window is drift: re-sent, then marked failed, and
 * the failed miner still counts at what it draws. The AI load is a constant subtraction here: the
 * agent has no actuator for it, so it can never be counted as curtailable.
 */
import type { MinerState } from '../capabilities.js';
import type { Command, DecideConfig, DecideInputs, Decision, LimitedBy, MinerIntent, MinerReading, MinerView, StateMW } from './types.js';

const EPS_MW = 1e-9;

/** What a miner's last command looks like against this tick's reading. */
export type IntentClass = 'none' | 'pending' | 'confirmed' | 'drifted' | 'exhausted' | 'failed';

type Effective = MinerState | 'unreachable';

/**
 * State from the reading, with the agent's own record breaking a tie the device leaves open: a
 * zero-hashrate 'unknown' miner we put to sleep is asleep (Braiins legacy cannot say 'paused').
 */
export function effectiveState(v: MinerView, cfg: Pick<DecideConfig, 'zeroHashFraction'>): Effective {
  const r = v.reading;
  if (!r) return 'unreachable';
  if (r.state === 'unknown' && v.intent && r.hashrateThs <= cfg.zeroHashFraction * v.ratedHashrateThs) {
    if (v.intent.kind === 'sleep') return 'sleeping';
    if (v.intent.kind === 'wake') return 'waking';
  }
  return r.state;
}

/**
 * True when the reading shows the intent in effect: asleep; awake; hashing after a power target
 * (whether it settled at the target is checked once its ramp had time: see classifyIntent).
 */
export function intentInEffect(intent: MinerIntent, state: Effective): boolean {
  switch (intent.kind) {
    case 'sleep':
      return state === 'sleeping';
    case 'wake':
      return state === 'mining' || state === 'waking' || state === 'tuning';
    case 'target':
      return state === 'mining' || state === 'tuning';
  }
}

/** Settled (mining, not tuning) above its target by more than the tolerance. */
function aboveTarget(it: MinerIntent, state: Effective, reading: MinerReading | null, tolerance: number): boolean {
  const w = reading?.powerW ?? null;
  return it.kind === 'target' && state === 'mining' && w !== null && it.targetW !== undefined && w > it.targetW * (1 + tolerance);
}

/** Classifies a miner's last command at `nowMs` (pure; the agent and decide share it). */
export function classifyIntent(v: MinerView, nowMs: number, cfg: Pick<DecideConfig, 'confirmTimeoutMs' | 'maxAttempts' | 'failedRetryMs' | 'zeroHashFraction' | 'targetTolerance'>): IntentClass {
  const it = v.intent;
  if (!it) return 'none';
  if (it.status === 'failed') return nowMs - (it.failedAtMs ?? it.sentAtMs) >= cfg.failedRetryMs ? 'none' : 'failed';
  const state = effectiveState(v, cfg);
  const drift = (): IntentClass => (it.attempts >= cfg.maxAttempts ? 'exhausted' : 'drifted');
  if (state !== 'unreachable' && intentInEffect(it, state)) {
    // A target is obeyed only if the miner settles there once its ramp had the confirm window.
    if (aboveTarget(it, state, v.reading, cfg.targetTolerance) && nowMs - it.sentAtMs >= cfg.confirmTimeoutMs) return drift();
    return 'confirmed';
  }
  // Undone outside the agent (reboot, operator): decide afresh.
  if (it.status === 'confirmed') return 'none';
  if (it.lastError === undefined && nowMs - it.sentAtMs < cfg.confirmTimeoutMs) return 'pending';
  if (state === 'unreachable') return 'pending';
  return drift();
}

/** Power the miner mines at when awake: the agent's target, else nameplate, W. */
function levelW(v: MinerView): number {
  return v.powerTargetW ?? v.ratedPowerW;
}

function sleepW(v: MinerView, state: Effective, cfg: DecideConfig): number {
  const reported = v.reading?.powerW;
  if (state === 'sleeping' && reported !== null && reported !== undefined) return reported;
  return v.ratedPowerW * cfg.sleepPowerFraction;
}

/** Best estimate of what the miner draws now, W; unknown and unreachable count at full nameplate. */
export function currentPowerW(v: MinerView, state: Effective, cfg: DecideConfig, rampingToTarget = false): number {
  const reported = v.reading?.powerW ?? null;
  switch (state) {
    case 'unreachable':
    case 'unknown':
      return Math.max(v.ratedPowerW, reported ?? 0);
    case 'sleeping':
      return sleepW(v, state, cfg);
    case 'waking':
      // Ramping to its level: count the level so a wave of wakes cannot overshoot.
      return Math.max(levelW(v), reported ?? 0);
    case 'tuning':
    case 'mining':
      // Ramping to a target the agent just set: count the target, or the control loop would chase
      // the ramp (shed more, then restore). The meter catches the transient if it ever matters.
      if (rampingToTarget) return levelW(v);
      return miningPowerW(v, reported, cfg);
  }
}

/** A hashing miner counts at its level, or at its reading when that is clearly above (overclock, bad target). */
function miningPowerW(v: MinerView, reported: number | null, cfg: DecideConfig): number {
  const level = levelW(v);
  return reported !== null && reported > level * (1 + cfg.powerReadingTolerance) ? reported : level;
}

interface Row {
  v: MinerView;
  state: Effective;
  cls: IntentClass;
  currentW: number;
  projectedW: number;
  /** Meter MW per device W. */
  k: number;
  /** Meter J/TH: curtailment order. */
  jPerTh: number;
}

const byLeastEfficient = (a: Row, b: Row): number => b.jPerTh - a.jPerTh || (a.v.id < b.v.id ? -1 : a.v.id > b.v.id ? 1 : 0);
const byMostEfficient = (a: Row, b: Row): number => a.jPerTh - b.jPerTh || (a.v.id < b.v.id ? -1 : a.v.id > b.v.id ? 1 : 0);

function emptyStateMW(): StateMW {
  return { mining: 0, sleeping: 0, waking: 0, tuning: 0, unknown: 0, failed: 0, unreachable: 0 };
}

/** Can the agent act on this miner at all this tick? */
function actionable(r: Row): boolean {
  return r.state !== 'unreachable' && r.cls !== 'failed' && r.cls !== 'exhausted';
}

/** The pure decision for one tick. */
export function decide(miners: readonly MinerView[], inputs: DecideInputs, cfg: DecideConfig): Decision {
  const now = inputs.nowMs;
  const rows: Row[] = [];
  const newlyFailed: string[] = [];
  const newlyConfirmed: string[] = [];
  const byStateMW = emptyStateMW();
  let currentMW = 0;
  let projectedMW = 0;
  let pending = 0;
  for (const v of miners) {
    const state = effectiveState(v, cfg);
    const cls = classifyIntent(v, now, cfg);
    if (cls === 'exhausted') newlyFailed.push(v.id);
    if (cls === 'confirmed' && v.intent?.status === 'pending') newlyConfirmed.push(v.id);
    const k = v.pue / 1e6;
    const it = v.intent;
    const ramping = it?.kind === 'target' && it.status !== 'failed' && v.powerTargetW !== null && now - it.sentAtMs < cfg.confirmTimeoutMs;
    const currentW = currentPowerW(v, state, cfg, ramping);
    let projectedW = currentW;
    if (cls === 'pending' && state !== 'unreachable' && v.intent) {
      pending++;
      // In flight: count the commanded level (the drift check re-counts it if it never lands).
      projectedW = v.intent.kind === 'sleep' ? sleepW(v, state, cfg) : levelW(v);
    }
    const jPerTh = v.ratedHashrateThs > 0 ? (v.ratedPowerW * v.pue) / v.ratedHashrateThs : Infinity;
    rows.push({ v, state, cls, currentW, projectedW, k, jPerTh });
    currentMW += currentW * k;
    projectedMW += projectedW * k;
    const bucket: keyof StateMW = cls === 'failed' || cls === 'exhausted' ? 'failed' : state;
    byStateMW[bucket] += currentW * k;
  }

  // --- allowed mining MW -------------------------------------------------------------------
  const nonMiningMW = cfg.aiMW + cfg.otherLoadMW;
  const meterExcessMW = inputs.meter ? Math.max(0, inputs.meter.siteMW - (nonMiningMW + currentMW)) : (inputs.carriedMeterExcessMW ?? 0);
  const headroomMW = cfg.importLimitMW - nonMiningMW - meterExcessMW - cfg.safetyMarginMW;
  let targetMW: number;
  let safeMode: Decision['safeMode'] = null;
  if (inputs.target.stale) {
    if (cfg.safeMode === 'hold' && inputs.lastSafeMW !== null) {
      targetMW = inputs.lastSafeMW;
      safeMode = { mode: 'hold', reason: inputs.target.reason };
    } else {
      targetMW = 0;
      const why = cfg.safeMode === 'hold' ? `${inputs.target.reason}; no verified level to hold yet, so curtail-all` : inputs.target.reason;
      safeMode = { mode: cfg.safeMode, reason: why };
    }
  } else {
    targetMW = inputs.target.targetMW;
  }
  const cap = inputs.signalCapMW ?? Infinity;
  let allowed = Math.max(0, Math.min(targetMW, headroomMW, cap));
  let limitedBy: LimitedBy = safeMode ? 'safe-mode' : 'target';
  if (cap <= Math.min(targetMW, headroomMW)) limitedBy = 'signal';
  else if (headroomMW < targetMW) limitedBy = 'import-limit';
  if (!Number.isFinite(allowed)) allowed = 0;

  // --- curtail or restore --------------------------------------------------------------------
  const commands: Command[] = [];
  let deficitMW = projectedMW - allowed;
  let shortfallMW = 0;
  let restoreDeferred = 0;
  if (deficitMW > EPS_MW) {
    const retries = rows.filter((r) => r.cls === 'drifted' && r.v.intent?.kind !== 'wake' && actionable(r)).sort(byLeastEfficient);
    const fresh = rows
      .filter((r) => actionable(r) && r.cls !== 'drifted' && !(r.cls === 'pending' && r.v.intent?.kind === 'sleep'))
      // A sleeping miner is already shed, unless a wake is in flight (it is counted awake).
      .filter((r) => r.state !== 'sleeping' || (r.cls === 'pending' && r.v.intent?.kind === 'wake'))
      .filter((r) => r.v.canSleep || (r.v.powerRangeW !== null && r.projectedW > r.v.powerRangeW.minW))
      .sort(byLeastEfficient);
    for (const r of [...retries, ...fresh]) {
      if (deficitMW <= EPS_MW) break;
      const retry = r.cls === 'drifted';
      const attempt = retry ? (r.v.intent?.attempts ?? 0) + 1 : 1;
      const reason = retry ? 'retry' : 'curtail';
      const range = r.v.powerRangeW;
      const from = r.projectedW;
      const again = r.v.intent;
      if (retry && again?.kind === 'target' && again.targetW !== undefined) {
        commands.push({ minerId: r.v.id, kind: 'target', targetW: again.targetW, reason, attempt });
        deficitMW -= Math.max(0, from - again.targetW) * r.k;
        continue;
      }
      // The marginal machine keeps hashing at a lower target when that alone covers the deficit.
      if (!retry && range && from > range.minW) {
        const needW = Math.max(cfg.minTargetStepW, Math.ceil(deficitMW / r.k));
        const targetW = Math.floor(from - needW);
        if (targetW >= range.minW) {
          commands.push({ minerId: r.v.id, kind: 'target', targetW: Math.min(targetW, range.maxW), reason, attempt });
          deficitMW -= (from - targetW) * r.k;
          continue;
        }
      }
      if (r.v.canSleep) {
        commands.push({ minerId: r.v.id, kind: 'sleep', reason, attempt });
        deficitMW -= (from - sleepW(r.v, r.state, cfg)) * r.k;
      } else if (range && from > range.minW) {
        commands.push({ minerId: r.v.id, kind: 'target', targetW: Math.ceil(range.minW), reason, attempt });
        deficitMW -= (from - range.minW) * r.k;
      }
    }
    if (deficitMW > EPS_MW) {
      // Standby draw of sleeping machines cannot be shed: it is not a shortfall.
      const slept = new Set(commands.filter((c) => c.kind === 'sleep').map((c) => c.minerId));
      let standbyMW = 0;
      for (const r of rows) {
        const asleep = (r.state === 'sleeping' && !(r.cls === 'pending' && r.v.intent?.kind === 'wake')) || (r.cls === 'pending' && r.v.intent?.kind === 'sleep') || slept.has(r.v.id);
        if (asleep) standbyMW += sleepW(r.v, r.state, cfg) * r.k;
      }
      const left = deficitMW - standbyMW;
      shortfallMW = left > 1e-9 ? left : 0;
    }
  } else if (safeMode?.mode !== 'hold') {
    // 'hold' freezes the fleet: nothing is woken until the plan or feed is back.
    let roomMW = -deficitMW - cfg.restoreDeadbandMW;
    const paced = inputs.lastRestoreBatchAtMs !== null && now - inputs.lastRestoreBatchAtMs < cfg.restorePacingMs;
    let budget = paced ? 0 : cfg.restoreBatchSize;
    const retries = rows.filter((r) => r.cls === 'drifted' && r.v.intent?.kind === 'wake' && actionable(r)).sort(byMostEfficient);
    const fresh = rows
      .filter((r) => actionable(r) && r.cls !== 'drifted' && r.cls !== 'pending')
      .filter((r) => (r.state === 'sleeping' && r.v.canSleep) || (r.v.powerRangeW !== null && r.v.powerTargetW !== null && r.v.powerTargetW < r.v.ratedPowerW && (r.state === 'mining' || r.state === 'tuning')))
      .sort(byMostEfficient);
    for (const r of [...retries, ...fresh]) {
      if (roomMW <= EPS_MW) break;
      const retry = r.cls === 'drifted';
      const attempt = retry ? (r.v.intent?.attempts ?? 0) + 1 : 1;
      const reason = retry ? 'retry' : 'restore';
      if (r.state === 'sleeping' || (retry && r.v.intent?.kind === 'wake')) {
        const addMW = (levelW(r.v) - r.currentW) * r.k;
        if (addMW > roomMW + EPS_MW) continue;
        if (budget <= 0) {
          restoreDeferred++;
          roomMW -= addMW;
          continue;
        }
        commands.push({ minerId: r.v.id, kind: 'wake', reason, attempt });
        roomMW -= addMW;
        budget--;
      } else {
        const range = r.v.powerRangeW;
        const from = levelW(r.v);
        const upTo = Math.min(r.v.ratedPowerW, range?.maxW ?? r.v.ratedPowerW);
        const targetW = Math.floor(Math.min(upTo, from + roomMW / r.k));
        if (targetW - from < cfg.minTargetStepW && targetW < upTo) continue;
        if (targetW <= from) continue;
        // Asked for this much already and the device stepped below it (LuxOS profiles are discrete).
        const asked = r.v.intent?.kind === 'target' ? r.v.intent.targetW : undefined;
        if (asked !== undefined && targetW <= asked) continue;
        if (budget <= 0) {
          restoreDeferred++;
          roomMW -= (targetW - from) * r.k;
          continue;
        }
        commands.push({ minerId: r.v.id, kind: 'target', targetW, reason, attempt });
        roomMW -= (targetW - from) * r.k;
        budget--;
      }
    }
  }

  // Projected mining after the new commands (restores deferred are not counted).
  let projectedAfterMW = 0;
  const cmdBy = new Map(commands.map((c) => [c.minerId, c]));
  for (const r of rows) {
    const c = cmdBy.get(r.v.id);
    let w = r.projectedW;
    if (c?.kind === 'sleep') w = sleepW(r.v, r.state, cfg);
    else if (c?.kind === 'wake') w = levelW(r.v);
    else if (c?.kind === 'target' && c.targetW !== undefined) w = c.targetW;
    projectedAfterMW += w * r.k;
  }

  return {
    commands,
    newlyFailed,
    newlyConfirmed,
    allowedMiningMW: allowed,
    limitedBy,
    targetMW,
    headroomMW,
    currentMiningMW: currentMW,
    projectedMiningMW: projectedAfterMW,
    projectedSiteMW: nonMiningMW + meterExcessMW + projectedAfterMW,
    meterExcessMW,
    shortfallMW,
    restoreDeferred,
    pending,
    safeMode,
    byStateMW,
  };
}
