import type { ErrorCode } from '../../core/errors.js';
import type { ParsedBatch } from '../types.js';
import type { FeedId } from './config.js';

export type { FeedId } from './config.js';

/**
 * What a feed is doing:
 * - `starting`  started, first poll not finished yet
 * - `ok`        the last poll succeeded
 * - `waiting`   the last poll succeeded but the expected data is not published yet (e.g. DA before
 *               ~13:30 CPT, an RT posting running late): polled again soon, not a failure
 * - `retrying`  the last poll failed with a fault that can clear by itself; retried with backoff
 * - `stopped`   a failure only a human can fix (credentials, config): no more polls until restart
 * - `idle`      not started (or stopped by `stop()`)
 */
export type FeedState = 'idle' | 'starting' | 'ok' | 'waiting' | 'retrying' | 'stopped';

/** The last failure, safe to show: code and message only (URLs carry no credentials; see README). */
export interface FeedError {
  code: ErrorCode;
  message: string;
  /** Where (usually the URL, no query secrets). */
  where?: string;
  transient: boolean;
  atMs: number;
}

export interface FeedStatus {
  feed: FeedId;
  state: FeedState;
  /** A poll is running now. */
  polling: boolean;
  lastAttemptAtMs?: number;
  lastSuccessAtMs?: number;
  /** Start (UTC ms) and length of the newest data interval held (the primary settlement point, TOTAL load, the newest BTC day). */
  latestIntervalStartMs?: number;
  latestIntervalMinutes?: number;
  /** The instant the newest data describes (interval end, forecast publish time, price time): what staleness measures. */
  dataTimeMs?: number;
  /** When the data held becomes stale if nothing newer arrives. */
  staleAtMs?: number;
  stale: boolean;
  staleAfterMs: number;
  consecutiveFailures: number;
  lastError?: FeedError;
  nextPollAtMs?: number;
  /** Rows the last poll wrote (inserted or changed) and left unchanged: idempotence shows as written 0. */
  lastWrite?: { rows: number; unchanged: number };
  /** One line on the last poll (what was fetched, why it waits). */
  note?: string;
}

export type FeedEventType = 'polled' | 'failed' | 'stale' | 'recovered' | 'stopped';

/** Published on every status change; `stale` / `recovered` drive the agent's safe mode and the console. */
export interface FeedEvent {
  type: FeedEventType;
  feed: FeedId;
  atMs: number;
  status: FeedStatus;
}

export interface PollContext {
  nowMs: number;
  /** Fires on stop() or when the poll's deadline passes. */
  signal: AbortSignal;
}

export interface PollOutcome {
  /** What to store (label names the postings for the import report); all of a poll in one transaction. */
  batches: { label: string; batch: ParsedBatch }[];
  note: string;
  /** Called once every batch is stored (e.g. remember which postings are in). */
  onStored?: () => void;
}

/** What the feed holds, from the store and the poller's own memory. */
export interface Freshness {
  latestIntervalStartMs?: number;
  latestIntervalMinutes?: number;
  dataTimeMs?: number;
  staleAtMs?: number;
}

/** One feed's I/O: fetch and parse (no store writes, no clock reads, no timers). */
export interface Poller {
  readonly id: FeedId;
  readonly staleAfterMs: number;
  poll(ctx: PollContext): Promise<PollOutcome>;
  /**
   * Reads what the store holds for this feed (its newest rows) into memory, so that `freshness`,
   * `waitingFor` and `nextPollMs` answer without I/O (the store's reads are asynchronous; status
   * must not be). The feeds call it before each poll, after each write and at each staleness check.
   */
  load(nowMs: number): Promise<void>;
  /** From what `load` read last. */
  freshness(nowMs: number): Freshness;
  /** After storing: why the data expected by now is not held (not published yet), else undefined. */
  waitingFor?(nowMs: number): string | undefined;
  /** When to poll next after a poll that did not fail (`waiting` = it is expecting data now). */
  nextPollMs(nowMs: number, waiting: boolean): number;
}
