import { badInput, type MulletError } from '../../core/errors.js';
import { isLoopbackHost } from '../../core/net.js';

/**
 * Where the simulator may listen. Its listeners have no authentication — the control API hands out
 * ground truth and injects faults, the meter is what an agent trusts to keep the site under its
 * import limit — so they bind loopback unless the user says otherwise (`--allow-non-loopback`,
 * as `fleet scan` has). Miners always take loopback addresses (`--cidr` inside 127.0.0.0/8).
 */

/** True for addresses only this machine can reach (core/net.ts). */
export { isLoopbackHost } from '../../core/net.js';

/** The BAD_INPUT error (naming `flag`) for a non-loopback host without `allowNonLoopback`, else null. */
export function simBindProblem(host: string, flag: string, allowNonLoopback = false): MulletError | null {
  if (allowNonLoopback || isLoopbackHost(host)) return null;
  return badInput(`'${host}' is not a loopback address; the simulator's listeners have no authentication, so binding other interfaces needs --allow-non-loopback`, flag);
}

/** Throws simBindProblem's error, if any. */
export function checkSimBind(host: string, flag: string, allowNonLoopback = false): void {
  const problem = simBindProblem(host, flag, allowNonLoopback);
  if (problem) throw problem;
}
