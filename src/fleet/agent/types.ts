/**
 * Vocabulary of the site agent's decision core: what one tick sees (a snapshot of every miner plus
 * the site's fixed loads and meter), what it is told (target, signal cap, safe mode) and what it
 * decides (commands). Power on a device is W; everything at the meter is MW (device W × PUE / 1e6).
 * Time is UTC ms from the injected clock.
 */
import type { MinerState, PowerRangeW } from '../capabilities.js';

export type CommandKind = 'sleep' | 'wake' | 'target';

/** The agent's record of the last command it sent a miner (kept in the state DB across restarts). */
export interface MinerIntent {
  kind: CommandKind;
  /** For 'target': the power target sent, W. */
  targetW?: number;
  /** When the last attempt was sent, UTC ms. */
  sentAtMs: number;
  /** Attempts so far (1 after the first send). */
  attempts: number;
  /** pending: sent, not yet seen in effect; confirmed: read back in effect; failed: retries exhausted. */
  status: 'pending' | 'confirmed' | 'failed';
  /** When it was marked failed, UTC ms (failed miners are left alone for a while, then retried). */
  failedAtMs?: number;
  /** Set when the last send itself failed (no need to wait for the confirm window: retry now). */
  lastError?: string;
}

/** One miner's telemetry as the decision needs it (a subset of capabilities.Telemetry). */
export interface MinerReading {
  state: MinerState;
  hashrateThs: number;
  /** Reported power, W; null when the device reports none. */
  powerW: number | null;
}

/** What the agent knows about one miner at the start of a decision. */
export interface MinerView {
  /** Stable id (the inventory's), used in commands and the state DB. */
  id: string;
  /** Nameplate power, W (inventory/catalog); what an unknown miner is counted at. */
  ratedPowerW: number;
  /** Nameplate hashrate, TH/s; ratedPowerW / ratedHashrateThs orders curtailment. */
  ratedHashrateThs: number;
  /** Power usage effectiveness of the space it sits in: meter MW = device W × pue / 1e6. */
  pue: number;
  canSleep: boolean;
  /** Power-target range when the device supports targets, else null. */
  powerRangeW: PowerRangeW | null;
  /** Power target the agent last set and the device accepted, W; null = nameplate. */
  powerTargetW: number | null;
  /** This tick's reading; null when the read failed (unreachable: state unknown). */
  reading: MinerReading | null;
  intent: MinerIntent | null;
}

/** Where the mining target comes from this tick. */
export type TargetSource = 'plan' | 'rule' | 'nameplate';

export type TargetInput =
  | { source: TargetSource; stale: false; /** Mining MW at the meter the plan or rule allows. */ targetMW: number; note?: string }
  | { source: TargetSource; stale: true; /** Why the plan/feed is not usable (for status and logs). */ reason: string };

export const SAFE_MODES = ['hold', 'curtail-all'] as const;
/** hold: keep mining at the last verified safe level (never above it); curtail-all: sleep everything. */
export type SafeMode = (typeof SAFE_MODES)[number];

export interface DecideConfig {
  importLimitMW: number;
  /** AI load the agent never curtails, MW at the meter (firm, capped and deferrable at full IT × PUE). */
  aiMW: number;
  /** Other loads the agent cannot curtail (offices, auxiliaries), MW at the meter. */
  otherLoadMW: number;
  /** Kept free below the import limit, MW. */
  safetyMarginMW: number;
  safeMode: SafeMode;
  /** A command not seen in effect after this long is drift: re-sent, then failed, ms. */
  confirmTimeoutMs: number;
  /** Sends per command before a miner is marked failed. */
  maxAttempts: number;
  /** A failed miner is left alone (still counted) for this long, then tried again, ms. */
  failedRetryMs: number;
  /** Restores (wake / raise target) per batch. */
  restoreBatchSize: number;
  /** Time between restore batches, ms. */
  restorePacingMs: number;
  /** Smallest power-target change worth a command, W (avoids churn from tiny deficits). */
  minTargetStepW: number;
  /** A power reading above the expected level by more than this fraction is believed instead (0: any). */
  powerReadingTolerance: number;
  /** A miner settled above its power target by more than this fraction has not obeyed it, e.g. 0.05. */
  targetTolerance: number;
  /** Restores leave this much room unused, MW, so reading noise cannot wake then curtail a machine. */
  restoreDeadbandMW: number;
  /** Power of a sleeping miner that reports none, as a fraction of nameplate. */
  sleepPowerFraction: number;
  /** Hashrate at or below this fraction of nameplate counts as not hashing. */
  zeroHashFraction: number;
}

export const DEFAULT_DECIDE_CONFIG: Omit<DecideConfig, 'importLimitMW' | 'aiMW'> = {
  otherLoadMW: 0,
  safetyMarginMW: 0,
  safeMode: 'hold',
  confirmTimeoutMs: 30_000,
  maxAttempts: 3,
  failedRetryMs: 10 * 60_000,
  restoreBatchSize: 500,
  restorePacingMs: 2_000,
  minTargetStepW: 100,
  powerReadingTolerance: 0,
  targetTolerance: 0.05,
  restoreDeadbandMW: 0.005,
  sleepPowerFraction: 0.02,
  zeroHashFraction: 0.01,
};

export interface MeterInput {
  /** Site power at the revenue meter, MW. */
  siteMW: number;
  /** When it was read, UTC ms. */
  atMs: number;
}

export interface DecideInputs {
  nowMs: number;
  target: TargetInput;
  /** Cap from the active curtailment signal, MW at the meter; null when none is active. */
  signalCapMW: number | null;
  /** Fresh site meter reading, or null (none configured, stale or failed). */
  meter: MeterInput | null;
  /**
   * Unexplained metered load found earlier in this tick, MW, used when `meter` is null: a reading
   * taken before this tick's commands would otherwise look like new load once miners sleep.
   */
  carriedMeterExcessMW?: number;
  /** Mining MW verified safe on the last tick with a fresh target; what 'hold' holds. Null before any. */
  lastSafeMW: number | null;
  /** When the last restore batch was sent, UTC ms; null when never. */
  lastRestoreBatchAtMs: number | null;
}

export interface Command {
  minerId: string;
  kind: CommandKind;
  /** For 'target': the power target, W (an integer within the device range). */
  targetW?: number;
  /** curtail | restore | retry (re-sent after drift). */
  reason: 'curtail' | 'restore' | 'retry';
  /** Attempt number this send will be (1 for a fresh command). */
  attempt: number;
}

/** Which bound set the allowed mining MW. */
export type LimitedBy = 'target' | 'safe-mode' | 'import-limit' | 'signal';

/** Per-state MW at the meter, for status and metrics. */
export type StateMW = Record<MinerState | 'failed' | 'unreachable', number>;

export interface Decision {
  commands: Command[];
  /** Miners whose retries ran out this decision (counted at their read power, left alone). */
  newlyFailed: string[];
  /** Miners whose last command is now seen in effect. */
  newlyConfirmed: string[];
  allowedMiningMW: number;
  limitedBy: LimitedBy;
  /** The target the plan/rule/safe mode asked for, MW (before the import limit and signal). */
  targetMW: number;
  /** Import limit − AI − other − margin − unexplained metered load, MW. */
  headroomMW: number;
  /** Mining MW now (unknown at full, readings above expectation believed), at the meter. */
  currentMiningMW: number;
  /** Mining MW once every command in flight and decided now has taken effect. */
  projectedMiningMW: number;
  /** Projected site MW: AI + other + unexplained metered excess + projected mining. */
  projectedSiteMW: number;
  /** Metered site power above the estimate, MW (counted as load the agent cannot curtail). */
  meterExcessMW: number;
  /** MW above the allowed level nothing left can shed (everything curtailable is already curtailed). */
  shortfallMW: number;
  /** Restores held back by pacing or batch size this decision. */
  restoreDeferred: number;
  /** Commands in flight (pending, within their confirm window). */
  pending: number;
  /** Safe mode in force and why, or null. */
  safeMode: { mode: SafeMode; reason: string } | null;
  byStateMW: StateMW;
}
