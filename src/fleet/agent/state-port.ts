/**
 * The agent's storage port: what the site agent keeps across restarts, as the agent needs it.
 * Owned here (the consumer); `../state/` implements it on SQLite (the embedded default) and in
 * memory (tests, throw-away runs); a PostgreSQL implementation plugs into the same contract suite
 * (`../state/agent-state.contract.ts`). Every method is async so a networked store fits.
 * Units: power W on devices, MW at the meter; time integer UTC ms.
 */
import type { AwardRecord, DeploymentRecord } from './grid-records.js';
import type { CommandKind, MinerIntent } from './types.js';

export interface InventoryRow {
  id: string;
  host: string;
  driver: string;
  model: string | null;
  ratedPowerW: number;
  ratedHashrateThs: number;
}

/** A miner's restart memory: its last command and the power target it accepted. */
export interface IntentRow {
  minerId: string;
  intent: MinerIntent | null;
  /** Accepted power target, W; null = nameplate. */
  powerTargetW: number | null;
}

export type CommandState = 'sent' | 'done' | 'interrupted';

/** Miner commands, and the AI front's limits (`minerId` is then `ai:<device id>`). */
export type RecordedCommandKind = CommandKind | 'ai-limit' | 'ai-clear';

export interface CommandRecord {
  /** Row id, set by the store when the row is first written. */
  id?: number;
  minerId: string;
  kind: RecordedCommandKind;
  targetW: number | null;
  reason: string;
  attempt: number;
  signalId: string | null;
  sentAtMs: number;
  latencyMs: number;
  ok: boolean;
  /** sent: written before the command went out; done: its outcome is known; interrupted: the agent stopped in between. */
  state: CommandState;
  errorCode: string | null;
  errorFault: string | null;
  errorMessage: string | null;
}

export type SignalKind = 'curtail' | 'restore';
/** active: in progress; confirmed: done and verified; unmet: nothing left to command but the cap not reached; superseded. */
export type SignalState = 'active' | 'confirmed' | 'unmet' | 'superseded';

/** One curtailment or restore signal, as received and as it played out. */
export interface SignalRecord {
  id: string;
  kind: SignalKind;
  /** Canonical JSON of the request ({"mw":5} / {"pct":20} / {"all":true} / {}). */
  request: string;
  source: string;
  receivedAtMs: number;
  /** Mining cap this curtail set, MW at the meter; null for a restore. */
  capMW: number | null;
  /** Mining MW the cap was computed from (the level before the first active curtail). */
  baselineMW: number | null;
  state: SignalState;
  commandsSent: number;
  firstCommandAtMs: number | null;
  /**
   * When every command it caused was acknowledged and read back (woken miners 'waking', sleeping
   * miners asleep), UTC ms; absent/null before. `confirmedAtMs` is when it is in effect: for a
   * restore, when the woken machines hash (later); for a curtail the same moment.
   */
  acknowledgedAtMs?: number | null;
  confirmedAtMs: number | null;
  minersConfirmed: number;
  minersFailed: number;
  minersUnreachable: number;
  /** Mining MW above the cap that nothing left could shed when it settled (unmet), else null. */
  shortfallMW: number | null;
  supersededBy: string | null;
}

/** Telemetry of one miner over one minute (means of the samples). */
export interface TelemetryMinute {
  minerId: string;
  minuteMs: number;
  samples: number;
  /** Mean hashrate, TH/s. */
  hashrateThs: number;
  /** Mean of the samples that reported power, W; null when none did. */
  powerW: number | null;
  powerSamples: number;
  /** Last state seen in the minute. */
  state: string;
  /** Reads that failed in the minute. */
  failures: number;
}

export interface RetentionPolicy {
  /** Per-minute telemetry older than this is deleted, days. */
  telemetryDays: number;
  /** Command log older than this is deleted, days. */
  commandDays: number;
  /** Signals older than this are deleted, days (idempotency holds within this window). */
  signalDays: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { telemetryDays: 14, commandDays: 90, signalDays: 90 };

export interface AgentStateStore {
  /** Records the inventory the agent runs (refreshed at each start). */
  upsertInventory(rows: readonly InventoryRow[], nowMs: number): Promise<void>;
  inventory(): Promise<InventoryRow[]>;
  /** Every miner's restart memory. */
  loadIntents(): Promise<Map<string, IntentRow>>;
  /**
   * One atomic write: changed intents (a null intent and target deletes the row), command rows about
   * to be sent (`sending`: the store assigns their ids) and rows whose outcome is now known
   * (`completed`: matched by id).
   */
  persist(intents: readonly IntentRow[], sending: readonly CommandRecord[], completed: readonly CommandRecord[]): Promise<void>;
  /** Commands of one miner or all, newest first, at most `limit`. */
  commands(opts?: { minerId?: string; sinceMs?: number; limit?: number }): Promise<CommandRecord[]>;
  /** Adds per-minute telemetry; a row for a (miner, minute) already stored is merged by sample counts. */
  recordTelemetry(rows: readonly TelemetryMinute[]): Promise<void>;
  /** Per-minute rows of one miner, oldest first. */
  telemetry(minerId: string): Promise<TelemetryMinute[]>;
  /** Deletes rows past their retention (active signals are kept); how many of each. */
  prune(nowMs: number, policy?: RetentionPolicy): Promise<{ telemetry: number; commands: number; signals: number }>;
  getSignal(id: string): Promise<SignalRecord | undefined>;
  /** Signals still in force or in progress, oldest first. */
  activeSignals(): Promise<SignalRecord[]>;
  recentSignals(limit: number): Promise<SignalRecord[]>;
  /** Writes signal records and small values (null deletes) in one atomic step. */
  saveSignals(records: readonly SignalRecord[], kv?: Readonly<Record<string, string | null>>): Promise<void>;
  getKv(key: string): Promise<string | undefined>;
  setKv(key: string, value: string | null): Promise<void>;
  /**
   * Writes grid deployments and awards (upsert by id) in one atomic step. Kept without retention:
   * they are the evidence a QSE must be able to show for every deployment.
   */
  saveGrid(deployments: readonly DeploymentRecord[], awards?: readonly AwardRecord[]): Promise<void>;
  getDeployment(id: string): Promise<DeploymentRecord | undefined>;
  /** Deployments by start time (oldest first), optionally those starting in [fromMs, toMs), or only the unfinished ones. */
  deployments(opts?: { fromMs?: number; toMs?: number; unfinished?: boolean }): Promise<DeploymentRecord[]>;
  /** Every award ending after `sinceMs` (all when absent), by start time. */
  awards(sinceMs?: number): Promise<AwardRecord[]>;
  close(): Promise<void>;
}
