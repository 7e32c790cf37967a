import { MulletError } from '../core/errors.js';

/** The one place that maps error codes to process exit codes: bad input 2, runtime failure 1. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof MulletError && err.code === 'BAD_INPUT') return 2;
  return 1;
}
