import { describe, expect, it } from 'vitest';
import { readSite } from '../app/agent.js';
import { breakEvenUsdPerMWh, fleetModel } from '../dispatch/fleet-model.js';
import type { DispatchInput } from '../dispatch/types.js';
import { REPO_ROOT } from '../testing/data.js';
import { fourCpAlertAt, marketView } from './market-view.js';

const T0 = Date.parse('2025-08-04T05:00:00Z');
const Q = 15 * 60_000;

function known(): DispatchInput {
  const site = readSite(`${REPO_ROOT}/examples/ops-demo-site.yaml`);
  const n = 8;
  const input = {
    site,
    intervalMinutes: 15,
    startMs: Float64Array.from({ length: n }, (_, t) => T0 + t * Q),
    // Published up to interval 3; later ones unknown (NaN), as the live market holds them.
    rtPriceUsdPerMWh: Float64Array.from({ length: n }, (_, t) => (t <= 3 ? 20 + t : NaN)),
    daPriceUsdPerMWh: Float64Array.from({ length: n }, () => 30),
    hashpriceUsdPerPhDay: Float64Array.from({ length: n }, (_, t) => (t === 5 ? NaN : 50)),
    fourCpAlert: Uint8Array.from({ length: n }, (_, t) => (t >= 4 ? 1 : 0)),
  };
  // The view reads only these fields of the input.
  return input as unknown as DispatchInput;
}

describe('ops market view', () => {
  it('prices around now, break-even per fleet at each interval’s hashprice, the latest RT and the 4CP flag', () => {
    const k = known();
    const v = marketView(k, T0 + 4 * Q + 60_000, { backMs: 2 * Q, aheadMs: 2 * Q });
    // From the first interval starting within backMs before now to the last starting within aheadMs after it.
    expect(v.points.map((p) => p.start)).toEqual([3, 4, 5, 6].map((t) => new Date(T0 + t * Q).toISOString()));
    expect(v.points.map((p) => p.rtUsdPerMWh)).toEqual([23, null, null, null]);
    expect(v.latestRt).toEqual({ start: new Date(T0 + 3 * Q).toISOString(), usdPerMWh: 23 });
    const be = Math.round(breakEvenUsdPerMWh(fleetModel(k.site.fleets[0] as never), 50) * 100) / 100;
    expect(v.points[0]?.breakEvenUsdPerMWh[0]).toBe(be);
    expect(be).toBeGreaterThan(0);
    expect(v.points[2]?.breakEvenUsdPerMWh.every((x) => x === null)).toBe(true); // no hashprice: no claim
    expect(v.fleets.map((f) => f.name)).toEqual(k.site.fleets.map((f) => f.name));
    expect(v.fourCpAlertNow).toBe(true);
    expect(fourCpAlertAt(k, T0 + 3 * Q)).toBe(false);
    expect(fourCpAlertAt(k, T0 - 1)).toBe(false);
    expect(fourCpAlertAt(k, T0 + 8 * Q + 1)).toBe(false); // after the window
  });
});
