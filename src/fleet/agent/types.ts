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
  /** When a read first showed it in effect, UTC ms (a later read showing otherwise is a relapse). */
  confirmedAtMs?: number;
  /**
   * Power the miner was counted at when the command was sent, W (device side). Until the meter has
   * had time to see the change (`meterLagMs`) metered load is explained up to this level.
   */
  fromW?: number;
  /** Why a curtailing command was sent (`Decision.curtailReason`; kept by its retries); in memory only: 'unknown' after a restart. */
  why?: string;
}

/** One miner's telemetry as the decision needs it (a subset of capabilities.Telemetry). */
export interface MinerReading {
  state: MinerState;
  hashrateThs: number;
  /** Reported power, W; null when the device reports none. */
  powerW: number | null;
  /** Set when the device reported something physically impossible: nothing in it is believed. */
  implausible?: string;
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
  /** When `reading` was taken, UTC ms (compared with the intent's send time: observed outranks commanded). */
  readAtMs: number;
  intent: MinerIntent | null;
}

/** Where the mining target comes from this tick. */
/** plan: a plan file; rule: the strike rule on a price feed; dispatch: the live dispatcher (`mullet ops`); nameplate: none; coordinator: a shard's cap from its site coordinator (../shards). */
export type TargetSource = 'plan' | 'rule' | 'dispatch' | 'nameplate' | 'coordinator';

/** What a target knows of the market, for status and metrics (never acted on by decide). */
export interface TargetMarket {
  /** The energy price in force (the feed's latest, or the plan interval's), USD/MWh. */
  priceUsdPerMWh?: number;
  /** Start of the interval that price is for, UTC ms. */
  priceIntervalStartMs?: number;
  /** Each fleet's strike (configured, else break-even at the hashprice, plus the site offset), USD/MWh, by fleet name. */
  fleetStrikeUsdPerMWh?: Readonly<Record<string, number>>;
}

export type TargetInput =
  | ({
      source: TargetSource;
      stale: false;
      /** Mining MW at the meter the plan or rule allows. */
      targetMW: number;
      /** The plan's level for AI loads it curtails, MW at the meter, by load name (capped loads only act on it). */
      aiMW?: Readonly<Record<string, number>>;
      note?: string;
      /** When this target will change (the next interval, a price due), UTC ms: the agent ticks then. */
      nextChangeAtMs?: number;
    } & TargetMarket)
  | ({
      source: TargetSource;
      stale: true;
      /** Why the plan/feed is not usable (for status and logs). */
      reason: string;
      /** When the target may become usable again (a price due), UTC ms. */
      nextChangeAtMs?: number;
    } & Pick<TargetMarket, 'fleetStrikeUsdPerMWh'>);

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
  /**
   * A sleep is believed only while the device reports at most this fraction of nameplate power
   * (firmware that reports power): 'sleeping' at 60 % of nameplate is a contradiction, counted awake.
   */
  standbyPowerFraction: number;
  /**
   * A pending sleep is counted at its commanded level only this long after the send, ms; a read
   * later than that which shows the miner drawing counts at what it draws (observed outranks
   * commanded), the command is drift and another machine is curtailed in the same tick.
   */
  commandGraceMs: number;
  /** A sleep seen undone within this long of its confirmation is a relapse (drift), not a fresh start, ms. */
  relapseWindowMs: number;
  /**
   * A machine the agent put to sleep is not woken again before this long has passed, ms (bounds
   * how often signals can flip the same machines; restores wait for it). Curtailment for the import
   * limit is never delayed by it: recently woken machines are only curtailed last.
   */
  minDwellMs: number;
  /** After a command takes effect the meter may still show the old level for this long, ms. */
  meterLagMs: number;
  /**
   * A miner the agent woke is 'waking' (not 'mining') until it hashes at least this share of its
   * expected hashrate (default `WOKEN_HASH_FRACTION`, 0.9): a restore is in effect when its woken
   * machines hash. Waking machines still count at their level for the import limit.
   */
  wokenHashFraction?: number;
  /** After this long a woken miner below that share counts as mining anyway (a weak machine, not a boot), ms. */
  wakeWindowMs?: number;
  /** A device power reading above this multiple of nameplate is implausible (counted at nameplate, never believed). */
  maxPowerReadingFactor: number;
  /** A hashrate reading above this multiple of nameplate is implausible. */
  maxHashrateFactor: number;
  /**
   * A site meter reading above this multiple of the most the site could draw (AI + other + every
   * miner at nameplate, and at least the import limit) is implausible: ignored, an event raised.
   */
  maxMeterFactor: number;
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
  standbyPowerFraction: 0.1,
  commandGraceMs: 5_000,
  relapseWindowMs: 10 * 60_000,
  minDwellMs: 60_000,
  meterLagMs: 5_000,
  maxPowerReadingFactor: 2,
  maxHashrateFactor: 3,
  maxMeterFactor: 2,
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
   * Unexplained metered load at the last good meter reading, MW: used when `meter` is null, and as
   * a floor while recent commands may not show on the meter yet.
   */
  carriedMeterExcessMW?: number;
  /** Mining MW verified safe on the last tick with a fresh target; what 'hold' holds. Null before any. */
  lastSafeMW: number | null;
  /** When the last restore batch was sent, UTC ms; null when never. */
  lastRestoreBatchAtMs: number | null;
  /** More named bounds on mining MW (reserve floors, feeder limits, ...), beside the built-in ones. */
  limits?: readonly MiningLimit[];
  /** AI load counted this tick, MW at the meter (limited loads at their cap once read back); default cfg.aiMW. */
  aiMW?: number;
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

/**
 * A named bound on mining MW at the meter in one tick: the plan/rule `target` (or `safe-mode`), the
 * `import-limit` headroom, a `signal` cap, and whatever a caller adds (`reserve-floor`, a feeder
 * limit, ...). `hard` upper bounds (the import limit) win over every lower bound.
 */
export interface MiningLimit {
  name: string;
  bound: 'upper' | 'lower';
  mw: number;
  hard?: boolean;
}

/** Which bound set the allowed mining MW: a limit's name. */
export type LimitedBy = string;

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
  /** Every bound this decision considered, the binding one named by `limitedBy`. */
  limits: MiningLimit[];
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
  /** Restores held back by pacing, batch size or the minimum dwell this decision. */
  restoreDeferred: number;
  /** Of those, machines asleep for less than the minimum dwell. */
  dwellDeferred: number;
  /** Earliest time a deferred restore may go, UTC ms; null when none is deferred. */
  nextRestoreAtMs: number | null;
  /** Miners whose command read back not in effect after its grace: counted at what they draw. */
  observedOverCommanded: string[];
  /** Miners whose confirmed sleep was later seen undone (counted awake, retried as drift). */
  relapsed: string[];
  /** Commands in flight (pending, within their confirm window). */
  pending: number;
  /** Safe mode in force and why, or null. */
  safeMode: { mode: SafeMode; reason: string } | null;
  byStateMW: StateMW;
  /**
   * Why this decision curtails (null when it does not): `signal`, `price` (the strike rule),
   * `plan`, `import-limit`, `meter` (metered load the estimate cannot explain pushed the site over),
   * `safe-mode`, or the name of another limit (`curtailReason()`).
   */
  curtailReason: string | null;
}
