/**
 * Braiins OS / OS+ legacy API (BOSminer, cgminer-compatible TCP 4028). Control is `pause` /
 * `resume`; reads are the cgminer ones plus `temps`, `fans` and `tunerstatus`.
 *
 * Annotated example — `{"command":"pause"}` (bosminer-plus-am2-s17 0.6.0):
 *   {"STATUS":[{"STATUS":"S","When":1610109274,"Code":204,"Msg":"Pause",
 *               "Description":"BOSminer bosminer-plus-am2-s17 0.6.0-fe72abe5"}],
 *    "PAUSE":[true],                       ← a boolean inside the section array
 *    "id":1}
 * `resume` answers Code 205 "RESUME":[true] before the hashboards are back (~10 s ramp).
 * `summary` reports hashrate in MH/s ("MHS 5s":15740915.84 = 15.7 TH/s) and no power; power
 * comes from `tunerstatus`: "ApproximateMinerPowerConsumption":1419 (W), "PowerLimit":1420 (W).
 * `temps`: TEMPS[] {"Board":75.0,"Chip":0.0,"ID":6} (°C, 0 = no sensor); `fans`: FANS[] {"RPM":2820,"Speed":40 (%)}.
 */
import type { CallContext } from './call.js';
import { cgminerCommand, type CgminerEndpoint } from './cgminer.js';
import { MinerError } from './errors.js';

async function pauseResume(ctx: CallContext, ep: CgminerEndpoint, command: 'pause' | 'resume'): Promise<void> {
  const r = await cgminerCommand(ep, command, {}, ctx);
  const key = command.toUpperCase();
  const ok = r.body[key];
  // A missing section is tolerated (older builds); an explicit false is a refusal.
  if (Array.isArray(ok) && ok[0] === false) {
    throw new MinerError('status', `${command} refused by the miner`, { where: ep.host, reason: 'rejected', ...(r.status.code === null ? {} : { statusCode: r.status.code }) });
  }
}

/** `pause`: hashboards (and on some models the PSU output) off. */
export function braiinsPause(ctx: CallContext, ep: CgminerEndpoint): Promise<void> {
  return pauseResume(ctx, ep, 'pause');
}

/** `resume`: back to mining; returns before the hashboards are up. */
export function braiinsResume(ctx: CallContext, ep: CgminerEndpoint): Promise<void> {
  return pauseResume(ctx, ep, 'resume');
}
