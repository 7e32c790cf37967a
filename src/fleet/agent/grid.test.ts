import { describe, expect, it } from 'vitest';
import { decide } from './decide.js';
import { deploymentCapMW, deploymentRequestSchema, evidenceCsv, evidenceRow, finish, floorMW, gridLimits, judge, newAward, newDeployment, observe, type DeploymentRecord } from './grid.js';
import { DEFAULT_DECIDE_CONFIG, type DecideConfig, type DecideInputs, type MinerView } from './types.js';

const NOW = Date.UTC(2025, 7, 1, 18, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();

function cfg(over: Partial<DecideConfig> = {}): DecideConfig {
  // No standby draw: 1 MW machines shed exactly 1 MW each.
  return { ...DEFAULT_DECIDE_CONFIG, importLimitMW: 100, aiMW: 0, restoreDeadbandMW: 0, minDwellMs: 0, sleepPowerFraction: 0, ...over };
}

function inputs(over: Partial<DecideInputs> = {}): DecideInputs {
  return { nowMs: NOW, target: { source: 'rule', stale: false, targetMW: Infinity }, signalCapMW: null, meter: null, lastSafeMW: null, lastRestoreBatchAtMs: null, ...over };
}

/** n miners of 1 MW each (easy arithmetic), the first `asleep` sleeping; J/TH rises with the index (m00 most efficient). */
function fleet(n: number, asleep = 0): MinerView[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `m${String(i).padStart(2, '0')}`,
    ratedPowerW: 1_000_000,
    ratedHashrateThs: 10_000 - i,
    pue: 1,
    canSleep: true,
    powerRangeW: null,
    powerTargetW: null,
    reading: i < asleep ? { state: 'sleeping' as const, hashrateThs: 0, powerW: 0 } : { state: 'mining' as const, hashrateThs: 10_000 - i, powerW: 1_000_000 },
    readAtMs: NOW,
    intent: null,
  }));
}

const award = (mw: number, product: 'ECRS' | 'NSPIN' = 'ECRS') => newAward({ id: `aw-${product}-${mw}`, product, mw, from: iso(NOW - 3_600_000), to: iso(NOW + 3_600_000) }, 'test');
const sleeps = (d: ReturnType<typeof decide>): number => d.commands.filter((c) => c.kind === 'sleep').length;
const wakes = (d: ReturnType<typeof decide>): number => d.commands.filter((c) => c.kind === 'wake').length;

describe('decide() with the award floor (pure)', () => {
  it('keeps the awarded MW mining when the price rule would curtail everything: limitedBy award-floor', () => {
    const limits = gridLimits([award(4)], [], NOW, { safeMode: false });
    const d = decide(fleet(10), inputs({ target: { source: 'rule', stale: false, targetMW: 0 }, limits }), cfg());
    expect(d.allowedMiningMW).toBe(4);
    expect(d.limitedBy).toBe('award-floor');
    expect(sleeps(d)).toBe(6); // the six least efficient
    expect(d.commands.map((c) => c.minerId)).not.toContain('m00');
    expect(d.projectedMiningMW).toBeCloseTo(4, 9);
  });

  it('wakes sleeping machines up to the floor, and no further', () => {
    const d = decide(fleet(10, 8), inputs({ target: { source: 'rule', stale: false, targetMW: 0 }, limits: gridLimits([award(5)], [], NOW, { safeMode: false }) }), cfg());
    expect(wakes(d)).toBe(3); // 2 mining + 3 woken = 5 MW
    expect(d.limitedBy).toBe('award-floor');
  });

  it('the import limit wins over the floor (a hard upper bound)', () => {
    const d = decide(fleet(10), inputs({ target: { source: 'rule', stale: false, targetMW: 0 }, limits: gridLimits([award(8)], [], NOW, { safeMode: false }) }), cfg({ importLimitMW: 6, aiMW: 3 }));
    expect(d.allowedMiningMW).toBe(3);
    expect(d.limitedBy).toBe('import-limit');
    expect(d.projectedMiningMW).toBeLessThanOrEqual(3 + 1e-9);
  });

  it('the floor outranks an operator curtail signal and the plan, but not safe mode', () => {
    const limits = gridLimits([award(3)], [], NOW, { safeMode: false });
    expect(decide(fleet(10), inputs({ signalCapMW: 0, limits }), cfg()).allowedMiningMW).toBe(3);
    // A stale target: the caller leaves the floor out (the agent keeps its safe level instead).
    expect(gridLimits([award(3)], [], NOW, { safeMode: true })).toEqual([]);
  });

  it('a deployment caps mining at the baseline − its MW and takes its MW off the floor', () => {
    const dep: DeploymentRecord = { ...newDeployment({ id: 'd1', product: 'ECRS', mw: 4 }, 'test', NOW), state: 'active', baselineMW: 10, measuredBy: 'reads' };
    const limits = gridLimits([award(4)], [dep], NOW, { safeMode: false });
    expect(limits).toEqual([{ name: 'grid-deployment', bound: 'upper', mw: 6 }]); // floor 4 − 4 = 0: no lower bound
    const d = decide(fleet(10), inputs({ limits }), cfg());
    expect(d.limitedBy).toBe('grid-deployment');
    expect(d.curtailReason).toBe('grid-deployment');
    expect(sleeps(d)).toBe(4);
  });

  it('floors add up; a deployment always takes from the floor, one without an award too', () => {
    const a = [award(4, 'ECRS'), award(2, 'NSPIN')];
    const dep = (mw: number, product: 'NSPIN' | 'ERS-10'): DeploymentRecord => ({ ...newDeployment({ id: `d-${product}`, product, mw }, 'test', NOW), state: 'active', baselineMW: 10 });
    expect(floorMW(a, [], NOW)).toBe(6);
    expect(floorMW(a, [dep(2, 'NSPIN')], NOW)).toBe(4); // NSPIN's 2 MW deployed; ECRS's 4 still held
    expect(floorMW(a, [dep(8, 'ERS-10')], NOW)).toBe(0); // an unawarded instruction wins over the floor
    expect(floorMW(a, [], NOW + 3_600_000)).toBe(0); // awards over
  });

  it('overlapping deployments share the first baseline: a second adds to the first', () => {
    const d1: DeploymentRecord = { ...newDeployment({ id: 'd1', product: 'ECRS', mw: 3 }, 'test', NOW), state: 'active', baselineMW: 10 };
    const d2: DeploymentRecord = { ...newDeployment({ id: 'd2', product: 'NSPIN', mw: 2 }, 'test', NOW), state: 'active', baselineMW: 10, priorMW: 3 };
    expect(deploymentCapMW([d1, d2])).toBe(5);
    expect(deploymentCapMW([])).toBeNull();
  });
});

describe('deployment rules (pure)', () => {
  it('the deadline defaults to the start + the product response time; hold or end', () => {
    const d = newDeployment({ id: 'e1', product: 'ECRS', mw: 50, holdMinutes: 30 }, 'http', NOW);
    expect(d.deadlineMs - d.startMs).toBe(600_000);
    expect(d.endMs).toBe(NOW + 30 * 60_000);
    expect(newDeployment({ id: 'n1', product: 'NSPIN', mw: 1, startAt: iso(NOW + 5_000) }, 'http', NOW).deadlineMs).toBe(NOW + 5_000 + 1_800_000);
    expect(() => newDeployment({ id: 'x', product: 'ECRS', mw: 1, deadlineAt: iso(NOW - 1) }, 'http', NOW)).toThrow(/before the start/);
    expect(deploymentRequestSchema.safeParse({ id: 'x', product: 'ECRS', mw: 1, holdMinutes: 5, endAt: iso(NOW) }).success).toBe(false);
    expect(deploymentRequestSchema.safeParse({ id: 'x', product: 'NonSpin', mw: 1 }).success).toBe(false);
  });

  it('measures the response from the baseline: 95 %, 100 %, met by the deadline', () => {
    let d: DeploymentRecord = { ...newDeployment({ id: 'e1', product: 'ECRS', mw: 10 }, 'http', NOW), state: 'active', baselineMW: 30, measuredBy: 'reads' };
    d = observe(d, NOW + 1_000, { miningMW: 25, siteMW: null });
    expect([d.t95AtMs, d.lastReductionMW]).toEqual([null, 5]);
    d = observe(d, NOW + 2_000, { miningMW: 20.4, siteMW: null });
    expect(d.t95AtMs).toBe(NOW + 2_000);
    expect(d.t100AtMs).toBeNull();
    d = observe(d, NOW + 3_000, { miningMW: 20, siteMW: null });
    expect(d.t100AtMs).toBe(NOW + 3_000);
    expect(judge(d, NOW + 599_999, 5000)).toBe(d); // not yet
    expect(judge(d, NOW + 600_000, 5000)).toMatchObject({ result: 'met', penaltyUsd: 0 });
  });

  it('a missed deadline costs MW short × hours held × the penalty rate (the dispatch ledger rule)', () => {
    let d: DeploymentRecord = { ...newDeployment({ id: 'e2', product: 'ECRS', mw: 10, holdMinutes: 30 }, 'http', NOW), state: 'active', baselineMW: 10, measuredBy: 'meter', baselineSiteMW: 12 };
    d = observe(d, NOW + 500_000, { miningMW: 0, siteMW: 6 }); // the meter says 6 MW reduced
    d = observe(d, NOW + 700_000, { miningMW: 0, siteMW: 2 }); // 10 MW, but after the deadline
    expect(d.deliveredMW).toBe(6);
    const j = judge(d, NOW + 700_000, 5000);
    expect(j.result).toBe('missed');
    expect(j.penaltyUsd).toBeCloseTo(4 * 0.5 * 5000, 6);
    expect(evidenceRow(j)).toMatchObject({ mwRequested: 10, mwDelivered: 6, secondsToFull: 700, secondsTo95: 700, result: 'missed', penaltyUsd: 10_000, measuredBy: 'meter' });
  });

  it('an open-ended miss is quoted for one hour, then settled on the hours held at recall', () => {
    const d: DeploymentRecord = { ...newDeployment({ id: 'e3', product: 'ECRS', mw: 2 }, 'http', NOW), state: 'active', baselineMW: 10, deliveredMW: 1 };
    expect(judge(d, NOW + 600_000, 1000).penaltyUsd).toBeCloseTo(1 * 1 * 1000, 6);
    expect(finish(judge(d, NOW + 600_000, 1000), NOW + 2 * 3_600_000, 'recalled', 1000)).toMatchObject({ state: 'recalled', result: 'missed', penaltyUsd: 2000 });
  });

  it('recalled before its deadline: met when 95 % was reached, else not judged; a scheduled one never started', () => {
    const base: DeploymentRecord = { ...newDeployment({ id: 'e4', product: 'ECRS', mw: 2 }, 'http', NOW), state: 'active', baselineMW: 10 };
    expect(finish(base, NOW + 1000, 'recalled', 1000)).toMatchObject({ result: 'not-judged', penaltyUsd: 0 });
    expect(finish({ ...base, t95AtMs: NOW + 500 }, NOW + 1000, 'recalled', 1000).result).toBe('met');
    expect(finish(newDeployment({ id: 'e5', product: 'ECRS', mw: 2, startAt: iso(NOW + 60_000) }, 'http', NOW), NOW, 'recalled', 1000)).toMatchObject({ state: 'recalled', result: 'not-judged' });
  });

  it('evidence CSV: one header, one row per deployment, formula-looking cells quoted', () => {
    const d: DeploymentRecord = { ...newDeployment({ id: 'e6', product: 'ERS-10', mw: 1.5 }, 'http', NOW), state: 'completed', result: 'met', t95AtMs: NOW + 9_000, t100AtMs: NOW + 10_000, deliveredMW: 1.5, finishedAtMs: NOW + 60_000, firstCommandAtMs: NOW + 100 };
    const csv = evidenceCsv([evidenceRow(d)]).trim().split('\n');
    expect(csv[0]).toBe('id,product,mwRequested,signalAt,startAt,deadlineAt,responseStartAt,secondsTo95,secondsToFull,mwDelivered,measuredBy,result,penaltyUsd,state,endedAt');
    expect(csv[1]).toBe(`e6,ERS-10,1.5,${iso(NOW)},${iso(NOW)},${iso(NOW + 600_000)},${iso(NOW + 100)},9,10,1.5,,met,0,completed,${iso(NOW + 60_000)}`);
  });
});
