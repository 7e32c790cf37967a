/**
 * The project's error taxonomy. Every error that crosses a module boundary is a MulletError with a
 * stable `code`, an optional `cause`, and an explicit `transient` flag (retry with backoff) vs
 * permanent (stop). Exit codes and HTTP statuses are mapped from `code` in exactly one place each
 * (cli/exit.ts, server code).
 */
export type ErrorCode =
  | 'BAD_INPUT' // the user gave something invalid (flag, file content, config); exit 2
  | 'NOT_FOUND' // a named file, series, row or device does not exist
  | 'CONFLICT' // the request clashes with the current state (an id reused, a resource held by another process)
  | 'PARSE' // bytes from a file/socket/HTTP did not match the expected format
  | 'IO' // filesystem or database failure
  | 'NETWORK' // connect refused/reset, DNS, socket closed early
  | 'TIMEOUT' // a deadline passed
  | 'ABORTED' // the caller's AbortSignal fired
  | 'PROTOCOL' // the peer answered, but with an error status
  | 'AUTH' // credentials missing, rejected or expired (who are you?)
  | 'FORBIDDEN' // known, but not allowed to do this (or the request came from where it must not)
  | 'UNSUPPORTED' // capability not offered by this device/driver
  | 'SOLVER' // optimizer failed or was infeasible
  | 'NO_DATA' // required market data missing from the store
  | 'INTERNAL'; // a bug: an invariant did not hold

const TRANSIENT_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set(['NETWORK', 'TIMEOUT', 'IO']);

export interface MulletErrorOptions {
  cause?: unknown;
  /** Overrides the default for the code (NETWORK/TIMEOUT/IO are transient, the rest permanent). */
  transient?: boolean;
  /** Where the problem is: a file:line, a config path such as `fleets[2].powerW`, a host:port. */
  where?: string;
}

export class MulletError extends Error {
  readonly code: ErrorCode;
  readonly transient: boolean;
  readonly where: string | undefined;

  constructor(code: ErrorCode, message: string, options: MulletErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MulletError';
    this.code = code;
    this.transient = options.transient ?? TRANSIENT_BY_DEFAULT.has(code);
    this.where = options.where;
  }
}

export function badInput(message: string, where?: string, cause?: unknown): MulletError {
  return new MulletError('BAD_INPUT', message, { ...(where === undefined ? {} : { where }), cause });
}

export function isMulletError(err: unknown): err is MulletError {
  return err instanceof MulletError;
}

/** A readable one-line description of any thrown value, with the `where` prefix when known. */
export function describeError(err: unknown): string {
  if (err instanceof MulletError) {
    return err.where ? `${err.where}: ${err.message}` : err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
