import { performance } from 'node:perf_hooks';
import { MinerError } from './errors.js';

/** Per-call options every device call takes: a caller AbortSignal and an overall deadline. */
export interface CallOptions {
  /** Cancels the call; it then rejects with an ABORTED MinerError. */
  signal?: AbortSignal;
  /** Overall deadline for the whole call in ms (all connects and round trips); default per client. */
  timeoutMs?: number;
}

/** Per-exchange socket limits; each is also capped by the call's remaining time. */
export interface ExchangeLimits {
  /** TCP connect deadline, ms. */
  connectTimeoutMs: number;
  /** Deadline for the complete reply after connecting, ms. */
  readTimeoutMs: number;
  /** Replies larger than this are rejected (PARSE, too-large), bytes. */
  maxReplyBytes: number;
}

export const DEFAULT_LIMITS: ExchangeLimits = {
  connectTimeoutMs: 3_000,
  readTimeoutMs: 10_000,
  maxReplyBytes: 4 * 1024 * 1024,
};

/** Default overall deadline for one driver call (several exchanges), ms. */
export const DEFAULT_CALL_TIMEOUT_MS = 15_000;

/**
 * The state one call carries through its exchanges: the caller's signal and an absolute deadline on
 * the monotonic clock (wall-clock jumps must not extend or cut a deadline).
 */
export interface CallContext {
  readonly signal: AbortSignal | undefined;
  /** performance.now() value after which the call has timed out. */
  readonly deadlineAt: number;
}

export function monotonicMs(): number {
  return performance.now();
}

/** Starts a call: the deadline is `opts.timeoutMs` (else `defaultTimeoutMs`) from now. */
export function startCall(opts: CallOptions | undefined, defaultTimeoutMs = DEFAULT_CALL_TIMEOUT_MS): CallContext {
  const timeoutMs = opts?.timeoutMs ?? defaultTimeoutMs;
  return { signal: opts?.signal, deadlineAt: monotonicMs() + Math.max(0, timeoutMs) };
}

/** Milliseconds left before the call's deadline (may be <= 0). */
export function remainingMs(ctx: CallContext): number {
  return ctx.deadlineAt - monotonicMs();
}

/** The ABORTED / TIMEOUT error of a call that is already over, else null. */
export function callProblem(ctx: CallContext, where: string): MinerError | null {
  if (ctx.signal?.aborted) return abortedError(where, ctx.signal.reason);
  if (remainingMs(ctx) <= 0) return new MinerError('timeout', 'call deadline passed', { where });
  return null;
}

/** Throws ABORTED / TIMEOUT before starting more work on a call that is already over. */
export function checkCall(ctx: CallContext, where: string): void {
  const problem = callProblem(ctx, where);
  if (problem) throw problem;
}

export function abortedError(where: string, reason?: unknown): MinerError {
  return new MinerError('aborted', 'aborted by the caller', { where, cause: reason });
}

/** `host:port`, with brackets for IPv6 literals. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
