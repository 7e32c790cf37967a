/**
 * The one place error codes become HTTP statuses (cli/exit.ts is the one place they become exit
 * codes). Protocol-level refusals that have no domain meaning (413, 415, 405) are `HttpProblem`s
 * carrying their status; everything else maps by code.
 */
import { describeError, isMulletError, MulletError, type ErrorCode, type MulletErrorOptions } from '../core/errors.js';
import type { z } from 'zod';

/** A refusal at the HTTP layer itself (body too large, wrong media type, wrong method). */
export class HttpProblem extends MulletError {
  constructor(
    readonly status: 405 | 413 | 415 | 503,
    code: ErrorCode,
    message: string,
    options: MulletErrorOptions = {},
  ) {
    super(code, message, options);
    this.name = 'HttpProblem';
  }
}

const BY_CODE: Record<ErrorCode, number> = {
  BAD_INPUT: 400,
  AUTH: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNSUPPORTED: 501,
  PARSE: 502, // a device or upstream answered with something unreadable
  PROTOCOL: 502,
  NETWORK: 503,
  TIMEOUT: 503,
  IO: 503,
  NO_DATA: 503,
  SOLVER: 500,
  ABORTED: 499,
  INTERNAL: 500,
};

/** HTTP status for any thrown value (non-Mullet errors are 500). */
export function httpStatusFor(err: unknown): number {
  if (err instanceof HttpProblem) return err.status;
  if (!isMulletError(err)) return 500;
  // A transient failure of any kind: retry later.
  if (err.transient && BY_CODE[err.code] < 500) return 503;
  return BY_CODE[err.code];
}

/** The JSON error body every route answers with: {"error":{code,message,where?}}. */
export function errorBody(err: unknown): { error: { code: string; message: string; where?: string } } {
  if (isMulletError(err)) return { error: { code: err.code, message: err.message, ...(err.where ? { where: err.where } : {}) } };
  return { error: { code: 'INTERNAL', message: describeError(err) } };
}

/** Parses a request's body or query with its schema; a failure is BAD_INPUT (400) naming the field (`where`). */
export function parse<T>(schema: z.ZodType<T>, raw: unknown): T {
  const p = schema.safeParse(raw);
  if (p.success) return p.data;
  const i = p.error.issues[0];
  const where = i && i.path.length > 0 ? i.path.map(String).join('.') : undefined;
  throw new MulletError('BAD_INPUT', i?.message ?? 'invalid body', where ? { where } : {});
}
