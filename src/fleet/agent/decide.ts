/**
 * The agent's pure decision core: one snapshot of the fleet + the tick's inputs → the commands
 * that bring mining within the allowed MW. No I/O, no clock (time comes in `inputs.nowMs`).
 *
 * allowed mining MW = the tightest of a list of named bounds (`applyLimits`): plan/rule target (or
 * safe mode), import limit − AI − other − margin − metered load the estimate cannot explain, signal
 * cap, plus any the caller adds. Curtail least efficient first (the marginal machine gets a power
 * target when that sheds enough, else machines sleep); restore most efficient first in paced
 * batches, never waking a machine asleep for less than the minimum dwell. A miner whose state is
 * unknown counts at full nameplate. What is observed outranks what was commanded: a sleep read back
 * still drawing after its grace, or seen undone after it was proven, is drift — counted at what it
 * draws, re-sent without being counted on, then marked failed — and other machines shed for it in
 * the same decision. The AI load is a constant subtraction here: the agent has no actuator for it,
 * so it can never be counted as curtailable.
 */
import type { MinerState } from '../capabilities.js';
import type { Command, DecideConfig, DecideInputs, Decision, LimitedBy, MinerIntent, MiningLimit, MinerReading, MinerView, StateMW } from './types.js';

const EPS_MW = 1e-9;

/** What a miner's last command looks like against this tick's reading. */
export type IntentClass = 'none' | 'pending' | 'confirmed' | 'drifted' | 'exhausted' | 'failed';

type Effective = MinerState | 'unreachable';

/**
 * State from the reading, with contradictions resolved toward "drawing power" and the agent's own
 * record breaking a tie the device leaves open:
 *  - 'sleeping' with a hashrate above zero is mining; 'sleeping' while reporting more than the
 *    standby fraction of nameplate is unknown (counted at nameplate or its reading, whichever is more);
 *  - a zero-hashrate 'unknown' miner we put to sleep is asleep (Braiins legacy cannot say 'paused').
 */
export function effectiveState(v: MinerView, cfg: Pick<DecideConfig, 'zeroHashFraction' | 'standbyPowerFraction' | 'wokenHashFraction' | 'wakeWindowMs'>): Effective {
  const r = v.reading;
  if (!r) return 'unreachable';
  // Nothing an implausible reading says is evidence, not even with our own record beside it.
  if (r.implausible !== undefined) return 'unknown';
  const zeroHash = r.hashrateThs <= cfg.zeroHashFraction * v.ratedHashrateThs;
  if (r.state === 'sleeping') {
    if (!zeroHash) return 'mining';
    if (r.powerW !== null && r.powerW > cfg.standbyPowerFraction * v.ratedPowerW) return 'unknown';
    return 'sleeping';
  }
  if (r.state === 'unknown' && v.intent && zeroHash && (r.powerW === null || r.powerW <= cfg.standbyPowerFraction * v.ratedPowerW)) {
    if (v.intent.kind === 'sleep') return 'sleeping';
    if (v.intent.kind === 'wake') return 'waking';
  }
  if (r.state === 'mining' && stillBooting(v, r, cfg)) return 'waking';
  return r.state;
}

/** Default share of the expected hashrate a woken miner must show before it counts as mining. */
export const WOKEN_HASH_FRACTION = 0.9;
/** Default time after a wake during which a miner below that share is still waking, ms. */
export const WAKE_WINDOW_MS = 15 * 60_000;

/**
 * A miner the agent woke that reports 'mining' while its hashrate is still below `wokenHashFraction`
 * of what it hashes at its level is booting (firmware says 'mining' from the first hash, minutes
 * before the ramp ends): it stays 'waking' until the hashrate shows, at most `wakeWindowMs` after
 * the wake (then a low hashrate is the machine's, not the boot's). Counted at its level either way.
 */
function stillBooting(v: MinerView, r: MinerReading, cfg: Pick<DecideConfig, 'wokenHashFraction' | 'wakeWindowMs'>): boolean {
  const it = v.intent;
  if (it?.kind !== 'wake' || it.status === 'failed') return false;
  if (v.readAtMs - it.sentAtMs >= (cfg.wakeWindowMs ?? WAKE_WINDOW_MS)) return false;
  const levelShare = v.ratedPowerW > 0 ? Math.min(1, levelW(v) / v.ratedPowerW) : 1;
  return r.hashrateThs < (cfg.wokenHashFraction ?? WOKEN_HASH_FRACTION) * v.ratedHashrateThs * levelShare;
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

type ClassifyConfig = Pick<DecideConfig, 'confirmTimeoutMs' | 'maxAttempts' | 'failedRetryMs' | 'zeroHashFraction' | 'standbyPowerFraction' | 'targetTolerance' | 'commandGraceMs' | 'relapseWindowMs' | 'wokenHashFraction' | 'wakeWindowMs'>;

/** Classifies a miner's last command at `nowMs` (pure; the agent and decide share it). */
export function classifyIntent(v: MinerView, nowMs: number, cfg: ClassifyConfig): IntentClass {
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
  if (it.status === 'confirmed') {
    // A sleep seen undone soon after it was proven is a broken promise (a firmware that acknowledges
    // and carries on, a machine that was only booting): drift, so retries run out and others shed.
    // Later, or for other commands, it was undone outside the agent (reboot, operator): decide afresh.
    if (it.kind === 'sleep' && state !== 'unreachable' && nowMs - (it.confirmedAtMs ?? it.sentAtMs) < cfg.relapseWindowMs) return drift();
    return 'none';
  }
  if (state === 'unreachable') return 'pending';
  if (it.lastError === undefined && nowMs - it.sentAtMs < cfg.confirmTimeoutMs && !observedUndone(v, it, state, cfg)) return 'pending';
  return drift();
}

/** A sleep read back after its grace period with the miner still drawing: observed outranks commanded. */
function observedUndone(v: MinerView, it: MinerIntent, state: Effective, cfg: Pick<DecideConfig, 'commandGraceMs'>): boolean {
  return it.kind === 'sleep' && state !== 'sleeping' && v.readAtMs >= it.sentAtMs + cfg.commandGraceMs;
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
  /** Woken by the agent less than the minimum dwell ago: curtailed last. */
  recentlyWoken: boolean;
}

const byId = (a: Row, b: Row): number => (a.v.id < b.v.id ? -1 : a.v.id > b.v.id ? 1 : 0);
const byLeastEfficient = (a: Row, b: Row): number => Number(a.recentlyWoken) - Number(b.recentlyWoken) || b.jPerTh - a.jPerTh || byId(a, b);
const byMostEfficient = (a: Row, b: Row): number => a.jPerTh - b.jPerTh || byId(a, b);

function emptyStateMW(): StateMW {
  return { mining: 0, sleeping: 0, waking: 0, tuning: 0, unknown: 0, failed: 0, unreachable: 0 };
}

/** Can the agent act on this miner at all this tick? */
function actionable(r: Row): boolean {
  return r.state !== 'unreachable' && r.cls !== 'failed' && r.cls !== 'exhausted';
}

/**
 * The allowed mining MW from named bounds: the tightest upper bound, raised to the highest lower
 * bound unless that would break a hard upper bound (the import limit always wins).
 */
export function applyLimits(limits: readonly MiningLimit[]): { allowedMW: number; limitedBy: LimitedBy } {
  let allowedMW = Infinity;
  let limitedBy: LimitedBy = 'none';
  let hardMW = Infinity;
  let hardName: LimitedBy = 'none';
  for (const l of limits) {
    if (l.bound !== 'upper') continue;
    if (l.mw < allowedMW) {
      allowedMW = l.mw;
      limitedBy = l.name;
    }
    if (l.hard && l.mw < hardMW) {
      hardMW = l.mw;
      hardName = l.name;
    }
  }
  for (const l of limits) {
    if (l.bound !== 'lower' || l.mw <= allowedMW) continue;
    allowedMW = Math.min(l.mw, hardMW);
    // A floor cut short by a hard bound: the hard bound is what binds (the import limit won).
    limitedBy = l.mw <= hardMW ? l.name : hardName;
  }
  allowedMW = Math.max(0, allowedMW);
  return { allowedMW: Number.isFinite(allowedMW) ? allowedMW : 0, limitedBy };
}

/**
 * The reason a curtailment is made, from the binding limit: the signal; the target by where it
 * comes from (`rule` → `price`, `plan`, …); the import limit, or `meter` when the deficit would not
 * exist without metered load the estimate cannot explain; `safe-mode`; any other limit by its name.
 */
export function curtailReason(limitedBy: LimitedBy, source: string, d: { meterExcessMW: number; projectedMW: number; allowedMW: number }): string {
  switch (limitedBy) {
    case 'target':
      return source === 'rule' ? 'price' : source;
    case 'import-limit':
      return d.meterExcessMW > EPS_MW && d.projectedMW - (d.allowedMW + d.meterExcessMW) <= EPS_MW ? 'meter' : 'import-limit';
    default:
      return limitedBy;
  }
}

/** The pure decision for one tick. */
export function decide(miners: readonly MinerView[], inputs: DecideInputs, cfg: DecideConfig): Decision {
  const now = inputs.nowMs;
  const rows: Row[] = [];
  const newlyFailed: string[] = [];
  const newlyConfirmed: string[] = [];
  const observedOverCommanded: string[] = [];
  const relapsed: string[] = [];
  const byStateMW = emptyStateMW();
  let currentMW = 0;
  let projectedMW = 0;
  /** Mining MW the meter may still be showing: recent changes counted at their old level. */
  let explainableMW = 0;
  let lagging = false;
  let pending = 0;
  for (const v of miners) {
    const state = effectiveState(v, cfg);
    const cls = classifyIntent(v, now, cfg);
    const it = v.intent;
    if (cls === 'exhausted') newlyFailed.push(v.id);
    if (cls === 'confirmed' && it?.status === 'pending') newlyConfirmed.push(v.id);
    if ((cls === 'drifted' || cls === 'exhausted') && it?.kind === 'sleep' && state !== 'unreachable') {
      if (it.status === 'confirmed') relapsed.push(v.id);
      else if (it.lastError === undefined) observedOverCommanded.push(v.id);
    }
    const k = v.pue / 1e6;
    const ramping = it?.kind === 'target' && it.status !== 'failed' && v.powerTargetW !== null && now - it.sentAtMs < cfg.confirmTimeoutMs;
    const currentW = currentPowerW(v, state, cfg, ramping);
    let projectedW = currentW;
    if (cls === 'pending' && state !== 'unreachable' && it) {
      pending++;
      // In flight within its grace: count the commanded level (once read back still drawing after
      // the grace it is drift and counts at what it draws).
      projectedW = it.kind === 'sleep' ? sleepW(v, state, cfg) : levelW(v);
    }
    const changedAtMs = it ? (it.confirmedAtMs ?? it.sentAtMs) : -Infinity;
    const recent = it?.fromW !== undefined && now - changedAtMs < cfg.meterLagMs;
    if (recent) lagging = true;
    const explainedW = recent ? Math.max(currentW, it.fromW ?? 0) : currentW;
    const jPerTh = v.ratedHashrateThs > 0 ? (v.ratedPowerW * v.pue) / v.ratedHashrateThs : Infinity;
    const recentlyWoken = it?.kind === 'wake' && now - it.sentAtMs < cfg.minDwellMs;
    rows.push({ v, state, cls, currentW, projectedW, k, jPerTh, recentlyWoken });
    currentMW += currentW * k;
    projectedMW += projectedW * k;
    explainableMW += explainedW * k;
    const bucket: keyof StateMW = cls === 'failed' || cls === 'exhausted' ? 'failed' : state;
    byStateMW[bucket] += currentW * k;
  }

  // --- allowed mining MW -------------------------------------------------------------------
  const nonMiningMW = (inputs.aiMW ?? cfg.aiMW) + cfg.otherLoadMW;
  // Metered load that nothing we know of can explain (a device that lies, an AI load above its
  // contract) is load we cannot curtail: the headroom shrinks by it. While a recent change may not
  // show on the meter yet, the reading only bounds the excess from below (the change counts at its
  // old level), so the excess known before the change stands until the meter has caught up.
  const carried = inputs.carriedMeterExcessMW ?? 0;
  const meterExcessMW = !inputs.meter ? carried : lagging ? Math.max(carried, inputs.meter.siteMW - (nonMiningMW + explainableMW), 0) : Math.max(0, inputs.meter.siteMW - (nonMiningMW + currentMW));
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
  // Order matters on ties: the first tightest bound is the one reported.
  const limits: MiningLimit[] = [];
  if (inputs.signalCapMW !== null) limits.push({ name: 'signal', bound: 'upper', mw: inputs.signalCapMW });
  limits.push({ name: 'import-limit', bound: 'upper', mw: headroomMW, hard: true });
  limits.push({ name: safeMode ? 'safe-mode' : 'target', bound: 'upper', mw: targetMW });
  limits.push(...(inputs.limits ?? []));
  const { allowedMW: allowed, limitedBy } = applyLimits(limits);

  // --- curtail or restore --------------------------------------------------------------------
  const commands: Command[] = [];
  let deficitMW = projectedMW - allowed;
  const why = deficitMW > EPS_MW ? curtailReason(limitedBy, inputs.target.source, { meterExcessMW, projectedMW, allowedMW: allowed }) : null;
  let shortfallMW = 0;
  let restoreDeferred = 0;
  let dwellDeferred = 0;
  let nextRestoreAtMs = Infinity;
  if (deficitMW > EPS_MW) {
    // Re-sent commands are never counted on: the miner already failed to obey once, so the deficit
    // is covered by fresh machines in the same decision and the retry is a bonus if it lands.
    const retries = rows.filter((r) => r.cls === 'drifted' && r.v.intent?.kind !== 'wake' && actionable(r)).sort(byLeastEfficient);
    for (const r of retries) {
      const again = r.v.intent as MinerIntent;
      const attempt = again.attempts + 1;
      if (again.kind === 'target' && again.targetW !== undefined) commands.push({ minerId: r.v.id, kind: 'target', targetW: again.targetW, reason: 'retry', attempt });
      else if (r.v.canSleep) commands.push({ minerId: r.v.id, kind: 'sleep', reason: 'retry', attempt });
    }
    const fresh = rows
      .filter((r) => actionable(r) && r.cls !== 'drifted' && !(r.cls === 'pending' && r.v.intent?.kind === 'sleep'))
      // A sleeping miner is already shed, unless a wake is in flight (it is counted awake).
      .filter((r) => r.state !== 'sleeping' || (r.cls === 'pending' && r.v.intent?.kind === 'wake'))
      .filter((r) => r.v.canSleep || (r.v.powerRangeW !== null && r.projectedW > r.v.powerRangeW.minW))
      .sort(byLeastEfficient);
    for (const r of fresh) {
      if (deficitMW <= EPS_MW) break;
      const range = r.v.powerRangeW;
      const from = r.projectedW;
      // The marginal machine keeps hashing at a lower target when that alone covers the deficit.
      if (range && from > range.minW) {
        const needW = Math.max(cfg.minTargetStepW, Math.ceil(deficitMW / r.k));
        const targetW = Math.floor(from - needW);
        if (targetW >= range.minW) {
          commands.push({ minerId: r.v.id, kind: 'target', targetW: Math.min(targetW, range.maxW), reason: 'curtail', attempt: 1 });
          deficitMW -= (from - targetW) * r.k;
          continue;
        }
      }
      if (r.v.canSleep) {
        commands.push({ minerId: r.v.id, kind: 'sleep', reason: 'curtail', attempt: 1 });
        deficitMW -= (from - sleepW(r.v, r.state, cfg)) * r.k;
      } else if (range && from > range.minW) {
        commands.push({ minerId: r.v.id, kind: 'target', targetW: Math.ceil(range.minW), reason: 'curtail', attempt: 1 });
        deficitMW -= (from - range.minW) * r.k;
      }
    }
    if (deficitMW > EPS_MW) {
      // Standby draw of sleeping machines cannot be shed: it is not a shortfall.
      const slept = new Set(commands.filter((c) => c.kind === 'sleep' && c.reason !== 'retry').map((c) => c.minerId));
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
    const defer = (atMs: number): void => {
      restoreDeferred++;
      nextRestoreAtMs = Math.min(nextRestoreAtMs, atMs);
    };
    const pacedUntilMs = (inputs.lastRestoreBatchAtMs ?? now) + cfg.restorePacingMs;
    for (const r of [...retries, ...fresh]) {
      if (roomMW <= EPS_MW) break;
      const retry = r.cls === 'drifted';
      const attempt = retry ? (r.v.intent?.attempts ?? 0) + 1 : 1;
      const reason = retry ? 'retry' : 'restore';
      if (r.state === 'sleeping' || (retry && r.v.intent?.kind === 'wake')) {
        const addMW = (levelW(r.v) - r.currentW) * r.k;
        if (addMW > roomMW + EPS_MW) continue;
        const it = r.v.intent;
        const dwellUntilMs = !retry && it?.kind === 'sleep' ? (it.confirmedAtMs ?? it.sentAtMs) + cfg.minDwellMs : -Infinity;
        if (dwellUntilMs > now) {
          // Slept by us moments ago: it stays asleep for the dwell (the room is left for others).
          dwellDeferred++;
          defer(dwellUntilMs);
          continue;
        }
        if (budget <= 0) {
          defer(pacedUntilMs);
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
          defer(pacedUntilMs);
          roomMW -= (targetW - from) * r.k;
          continue;
        }
        commands.push({ minerId: r.v.id, kind: 'target', targetW, reason, attempt });
        roomMW -= (targetW - from) * r.k;
        budget--;
      }
    }
  }

  // Projected mining after the new commands (restores deferred and retries are not counted).
  let projectedAfterMW = 0;
  const cmdBy = new Map(commands.map((c) => [c.minerId, c]));
  for (const r of rows) {
    const c = cmdBy.get(r.v.id);
    let w = r.projectedW;
    if (c?.reason === 'retry' && c.kind !== 'wake') {
      // not counted on (see above)
    } else if (c?.kind === 'sleep') w = sleepW(r.v, r.state, cfg);
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
    limits,
    targetMW,
    headroomMW,
    currentMiningMW: currentMW,
    projectedMiningMW: projectedAfterMW,
    projectedSiteMW: nonMiningMW + meterExcessMW + projectedAfterMW,
    meterExcessMW,
    shortfallMW,
    restoreDeferred,
    dwellDeferred,
    nextRestoreAtMs: Number.isFinite(nextRestoreAtMs) ? nextRestoreAtMs : null,
    observedOverCommanded,
    relapsed,
    pending,
    safeMode,
    byStateMW,
    curtailReason: why,
  };
}
