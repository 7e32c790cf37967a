import { MulletError, type ErrorCode } from '../../core/errors.js';

/**
 * Why a miner call failed, one level finer than the project ErrorCode. The controller decides on
 * `code`/`transient`; `fault` is for metrics ("failures by code") and for tests that assert the
 * exact failure path (a refused connect must not look like a garbled reply).
 */
export type MinerFault =
  | 'refused' // nothing listening (miner rebooting or not a miner): NETWORK, transient
  | 'unreachable' // no route / host down: NETWORK, transient
  | 'reset' // peer reset the connection mid-exchange: NETWORK, transient
  | 'closed' // peer closed without sending a byte: NETWORK, transient
  | 'truncated' // reply cut before its end (no NUL, unparseable prefix): NETWORK, transient
  | 'daemon-down' // the box answered "Socket connect failed": miner process not running: NETWORK, transient
  | 'timeout' // connect or read deadline passed: TIMEOUT, transient
  | 'aborted' // the caller's AbortSignal fired: ABORTED, permanent
  | 'garbage' // complete reply that is not the protocol: PARSE, permanent
  | 'too-large' // reply exceeded the size cap: PARSE, permanent
  | 'bad-value' // a required field missing or not a finite number: PARSE, permanent
  | 'status' // the device answered with an error STATUS: PROTOCOL, permanent unless said otherwise
  | 'auth' // credentials, token or session rejected: AUTH, permanent
  | 'http' // unexpected HTTP status: PROTOCOL
  | 'unsupported'; // the device/driver cannot do this: UNSUPPORTED, permanent

const CODE_BY_FAULT: Record<MinerFault, ErrorCode> = {
  refused: 'NETWORK',
  unreachable: 'NETWORK',
  reset: 'NETWORK',
  closed: 'NETWORK',
  truncated: 'NETWORK',
  'daemon-down': 'NETWORK',
  timeout: 'TIMEOUT',
  aborted: 'ABORTED',
  garbage: 'PARSE',
  'too-large': 'PARSE',
  'bad-value': 'PARSE',
  status: 'PROTOCOL',
  auth: 'AUTH',
  http: 'PROTOCOL',
  unsupported: 'UNSUPPORTED',
};

export interface MinerErrorOptions {
  where: string;
  cause?: unknown;
  transient?: boolean;
  /** Device status code when the device answered with one (cgminer Code, Whatsminer Code, HTTP status). */
  statusCode?: number;
  /** Device status letter (S, I, W, E, F) when present. */
  statusLetter?: string;
  /** A short machine-readable reason inside the fault, e.g. 'invalid-command', 'access-denied'. */
  reason?: string;
}

/** A MulletError from a miner call, with the finer fault kind and the device's own status. */
export class MinerError extends MulletError {
  readonly fault: MinerFault;
  readonly statusCode: number | undefined;
  readonly statusLetter: string | undefined;
  readonly reason: string | undefined;

  constructor(fault: MinerFault, message: string, options: MinerErrorOptions) {
    super(CODE_BY_FAULT[fault], message, {
      where: options.where,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      ...(options.transient === undefined ? {} : { transient: options.transient }),
    });
    this.name = 'MinerError';
    this.fault = fault;
    this.statusCode = options.statusCode;
    this.statusLetter = options.statusLetter;
    this.reason = options.reason;
  }
}

export function isMinerError(err: unknown): err is MinerError {
  return err instanceof MinerError;
}

/** Maps a node socket error (errno code) to a fault; unknown codes count as a reset. */
export function faultFromSocketError(err: unknown): MinerFault {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unreachable';
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return 'reset';
  }
}
