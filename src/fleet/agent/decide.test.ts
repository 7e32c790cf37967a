import { describe, expect, it } from 'vitest';
import type { MinerState } from '../capabilities.js';
import { classifyIntent, curtailReason, decide, effectiveState } from './decide.js';
import { DEFAULT_DECIDE_CONFIG, type DecideConfig, type DecideInputs, type MinerIntent, type MinerView } from './types.js';

const NOW = Date.UTC(2025, 7, 1, 18, 0, 0);

function cfg(over: Partial<DecideConfig> = {}): DecideConfig {
  return { ...DEFAULT_DECIDE_CONFIG, importLimitMW: 100, aiMW: 0, restoreDeadbandMW: 0, ...over };
}

function inputs(over: Partial<DecideInputs> = {}): DecideInputs {
  return {
    nowMs: NOW,
    target: { source: 'nameplate', stale: false, targetMW: Infinity },
    signalCapMW: null,
    meter: null,
    lastSafeMW: null,
    lastRestoreBatchAtMs: null,
    ...over,
  };
}

interface MinerOpts {
  id?: string;
  ratedPowerW?: number;
  ratedHashrateThs?: number;
  state?: MinerState | 'unreachable';
  powerW?: number | null;
  hashrateThs?: number;
  canSleep?: boolean;
  range?: [number, number] | null;
  powerTargetW?: number | null;
  intent?: MinerIntent | null;
  pue?: number;
  readAtMs?: number;
}

let seq = 0;
function miner(o: MinerOpts = {}): MinerView {
  const rated = o.ratedPowerW ?? 3500;
  const ths = o.ratedHashrateThs ?? 200;
  const state = o.state ?? 'mining';
  return {
    id: o.id ?? `m${String(seq++).padStart(5, '0')}`,
    ratedPowerW: rated,
    ratedHashrateThs: ths,
    pue: o.pue ?? 1,
    canSleep: o.canSleep ?? true,
    powerRangeW: o.range ? { minW: o.range[0], maxW: o.range[1] } : null,
    powerTargetW: o.powerTargetW ?? null,
    reading:
      state === 'unreachable'
        ? null
        : {
            state,
            hashrateThs: o.hashrateThs ?? (state === 'mining' ? ths : 0),
            powerW: o.powerW === undefined ? (state === 'sleeping' ? 50 : rated) : o.powerW,
          },
    readAtMs: o.readAtMs ?? NOW,
    intent: o.intent ?? null,
  };
}

/** 1 MW of identical 1000 W machines at 50 J/TH... and variations by efficiency. */
function fleet(n: number, o: MinerOpts = {}): MinerView[] {
  return Array.from({ length: n }, (_, i) => miner({ ...o, id: `${o.id ?? 'f'}${String(i).padStart(5, '0')}` }));
}

/** Deterministic PRNG (mulberry32) for the property tables. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('decide: allowed mining MW', () => {
  it.each([
    // limit, ai, other, margin, target, cap → allowed, limitedBy
    { limit: 100, ai: 60, other: 0, margin: 0, target: Infinity, cap: null, allowed: 40, by: 'import-limit' },
    { limit: 100, ai: 60, other: 5, margin: 2, target: Infinity, cap: null, allowed: 33, by: 'import-limit' },
    { limit: 100, ai: 60, other: 0, margin: 0, target: 25, cap: null, allowed: 25, by: 'target' },
    { limit: 100, ai: 60, other: 0, margin: 0, target: 25, cap: 10, allowed: 10, by: 'signal' },
    { limit: 100, ai: 60, other: 0, margin: 0, target: 25, cap: 0, allowed: 0, by: 'signal' },
    { limit: 100, ai: 120, other: 0, margin: 0, target: 25, cap: null, allowed: 0, by: 'import-limit' },
  ] as const)('limit $limit ai $ai other $other margin $margin target $target cap $cap → $allowed MW by $by', (t) => {
    const d = decide([], inputs({ target: { source: 'plan', stale: false, targetMW: t.target }, signalCapMW: t.cap }), cfg({ importLimitMW: t.limit, aiMW: t.ai, otherLoadMW: t.other, safetyMarginMW: t.margin }));
    expect(d.allowedMiningMW).toBeCloseTo(t.allowed, 9);
    expect(d.limitedBy).toBe(t.by);
  });
});

describe('decide: firm AI load is never counted as curtailable', () => {
  it('sheds only mining to make room for AI, however large the request', () => {
    // 10 MW interconnect, 8 MW firm AI, 4 MW of miners: 2 MW of mining must go; AI stays whole.
    const miners = fleet(1000, { ratedPowerW: 4000 });
    const c = cfg({ importLimitMW: 10, aiMW: 8 });
    const d = decide(miners, inputs(), c);
    expect(d.allowedMiningMW).toBeCloseTo(2, 9);
    expect(d.projectedSiteMW).toBeLessThanOrEqual(10 + 1e-9);
    expect(d.projectedMiningMW).toBeLessThanOrEqual(2 + 1e-9);
    expect(d.commands.every((cmd) => miners.some((m) => m.id === cmd.minerId))).toBe(true);
  });

  it('a curtail bigger than the mining load stops at zero mining and reports no AI shed', () => {
    const miners = fleet(100, { ratedPowerW: 3000 });
    // Signal: cut 50 MW from 0.3 MW of mining → cap 0; AI 8 MW is not part of any cap.
    const d = decide(miners, inputs({ signalCapMW: 0 }), cfg({ importLimitMW: 20, aiMW: 8 }));
    expect(d.commands).toHaveLength(100);
    expect(d.commands.every((c) => c.kind === 'sleep')).toBe(true);
    expect(d.shortfallMW).toBe(0);
    expect(d.projectedSiteMW).toBeCloseTo(8 + 100 * 3000 * 0.02 * 1e-6, 9);
  });

  it('with AI above the limit (a broken meter or site file) mining goes to zero, the AI is not touched', () => {
    const miners = fleet(10);
    const d = decide(miners, inputs(), cfg({ importLimitMW: 5, aiMW: 6 }));
    expect(d.allowedMiningMW).toBe(0);
    expect(d.commands.filter((c) => c.kind === 'sleep')).toHaveLength(10);
  });
});

describe('decide: the site never exceeds the import limit (seeded property table)', () => {
  const states: (MinerState | 'unreachable')[] = ['mining', 'mining', 'mining', 'sleeping', 'waking', 'tuning', 'unknown', 'unreachable'];
  for (let seed = 1; seed <= 40; seed++) {
    it(`random fleet #${seed}`, () => {
      const r = rng(seed);
      const n = 50 + Math.floor(r() * 400);
      const miners: MinerView[] = [];
      for (let i = 0; i < n; i++) {
        const rated = 2000 + Math.floor(r() * 2000);
        const ranged = r() < 0.4;
        const st = states[Math.floor(r() * states.length)] as MinerState | 'unreachable';
        miners.push(
          miner({
            id: `r${i}`,
            ratedPowerW: rated,
            ratedHashrateThs: 80 + r() * 200,
            state: st,
            powerW: r() < 0.2 ? null : st === 'sleeping' ? 20 + r() * 60 : rated * (0.9 + r() * 0.2),
            canSleep: r() < 0.9,
            range: ranged ? [Math.floor(rated * 0.5), Math.floor(rated * 1.2)] : null,
            pue: 1 + r() * 0.2,
          }),
        );
      }
      const miningMW = miners.reduce((s, m) => s + m.ratedPowerW * m.pue * 1e-6, 0);
      const ai = r() * 5;
      const limit = ai + miningMW * (0.2 + r() * 1.0);
      const margin = r() * 0.1;
      const meter = r() < 0.5 ? { siteMW: ai + miningMW * (0.5 + r()), atMs: NOW } : null;
      const cap = r() < 0.3 ? miningMW * r() : null;
      const c = cfg({ importLimitMW: limit, aiMW: ai, safetyMarginMW: margin });
      const d = decide(miners, inputs({ meter, signalCapMW: cap }), c);
      // The unknown ones count at full nameplate in the estimate the limit is checked against.
      expect(d.currentMiningMW).toBeGreaterThanOrEqual(miners.filter((m) => m.reading === null).reduce((s, m) => s + m.ratedPowerW * m.pue * 1e-6, 0) - 1e-12);
      if (d.projectedSiteMW > limit - margin + 1e-9) {
        // Only when physically impossible otherwise: every reachable, awake, shedable miner got a command.
        const commanded = new Set(d.commands.map((x) => x.minerId));
        for (const m of miners) {
          const shedable = m.reading !== null && m.reading.state !== 'sleeping' && (m.canSleep || (m.powerRangeW !== null && m.ratedPowerW > m.powerRangeW.minW));
          if (shedable) expect(commanded.has(m.id), m.id).toBe(true);
        }
      }
      expect(d.projectedMiningMW).toBeLessThanOrEqual(d.allowedMiningMW + d.shortfallMW + miners.length * 4000 * 1.2 * 0.02 * 1e-6 + 1e-9);
    });
  }
});

describe('decide: a machine in unknown state counts at full nameplate', () => {
  it.each([
    { what: 'unreachable (read failed)', o: { state: 'unreachable' as const } },
    { what: "state 'unknown', hashing", o: { state: 'unknown' as const, hashrateThs: 100, powerW: 100 } },
    { what: "state 'unknown', zero hashrate, no record of a sleep", o: { state: 'unknown' as const, hashrateThs: 0, powerW: null } },
  ])('$what', ({ o }) => {
    const u = miner({ id: 'u', ratedPowerW: 5000, ...o });
    const d = decide([u], inputs(), cfg());
    expect(d.currentMiningMW).toBeCloseTo(0.005, 12);
  });

  it('an unreachable miner forces others to shed for it, and gets no command itself', () => {
    // Cap 10 kW; u is unreachable (5 kW counted), five 2 kW miners: 2.5 of them must go.
    const u = miner({ id: 'u', ratedPowerW: 5000, state: 'unreachable' });
    const others = fleet(5, { id: 'o', ratedPowerW: 2000 });
    const d = decide([u, ...others], inputs({ signalCapMW: 0.01 }), cfg());
    expect(d.commands.some((c) => c.minerId === 'u')).toBe(false);
    expect(d.projectedMiningMW).toBeLessThanOrEqual(0.01 + 1e-12);
  });

  it("zero hashrate 'unknown' after our own sleep command reads as asleep (Braiins legacy)", () => {
    const intent: MinerIntent = { kind: 'sleep', sentAtMs: NOW - 5000, attempts: 1, status: 'confirmed' };
    const m = miner({ id: 'b', state: 'unknown', hashrateThs: 0, powerW: null, intent });
    expect(classifyIntent(m, NOW, cfg())).toBe('confirmed');
    const d = decide([m], inputs({ signalCapMW: 0 }), cfg());
    expect(d.commands).toHaveLength(0);
  });
});

describe('decide: metered site power overrides the estimate when it shows more', () => {
  const miners = () => fleet(100, { ratedPowerW: 10_000 }); // 1 MW of mining
  it.each([
    { meter: null, allowed: 1.5, sleeps: 0 },
    { meter: 8.5, allowed: 1.5, sleeps: 0 }, // less than estimated 9: ignored
    { meter: 9.0, allowed: 1.5, sleeps: 0 }, // equal
    { meter: 9.8, allowed: 0.7, sleeps: 30 }, // 0.8 MW unexplained → 0.3 MW of mining must go
  ])('meter $meter MW (AI 8, limit 9.5)', ({ meter, allowed, sleeps }) => {
    const d = decide(miners(), inputs({ meter: meter === null ? null : { siteMW: meter, atMs: NOW } }), cfg({ importLimitMW: 9.5, aiMW: 8 }));
    expect(d.allowedMiningMW).toBeCloseTo(allowed, 9);
    // Each sleeping 10 kW machine sheds 9.8 kW: ceil(0.3 MW / 9.8 kW) = 31 machines.
    expect(d.commands.length).toBe(sleeps === 0 ? 0 : 31);
    expect(d.meterExcessMW).toBeCloseTo(meter === null ? 0 : Math.max(0, meter - 9), 9);
  });
});

describe('decide: machine choice', () => {
  it('curtails least efficient first and restores most efficient first', () => {
    const good = fleet(3, { id: 'good', ratedPowerW: 3500, ratedHashrateThs: 200 }); // 17.5 J/TH
    const bad = fleet(3, { id: 'bad', ratedPowerW: 3250, ratedHashrateThs: 110 }); // 29.5 J/TH
    const d = decide([...good, ...bad], inputs({ signalCapMW: 0.014 }), cfg());
    expect(d.commands.map((c) => c.minerId)).toEqual(['bad00000', 'bad00001']);

    const asleep = [...fleet(3, { id: 'good', ratedPowerW: 3500, ratedHashrateThs: 200, state: 'sleeping' }), ...fleet(3, { id: 'bad', ratedPowerW: 3250, ratedHashrateThs: 110, state: 'sleeping' })];
    const r = decide(asleep, inputs({ signalCapMW: 0.008 }), cfg());
    expect(r.commands.map((c) => `${c.kind}:${c.minerId}`)).toEqual(['wake:good00000', 'wake:good00001']);
  });

  it('gives the marginal machine a power target (down to its minimum) instead of sleeping it', () => {
    const m = fleet(4, { ratedPowerW: 3000, range: [1500, 3600] });
    // 12 kW → cap 10.5 kW: one machine to 1500 W exactly.
    const d = decide(m, inputs({ signalCapMW: 0.0105 }), cfg());
    expect(d.commands).toEqual([{ minerId: 'f00000', kind: 'target', targetW: 1500, reason: 'curtail', attempt: 1 }]);
    // Cap 10.4 kW: the target would go below 1500 W, so that machine sleeps.
    const e = decide(m, inputs({ signalCapMW: 0.0104 }), cfg());
    expect(e.commands[0]?.kind).toBe('sleep');
  });

  it('a miner without sleep goes to its minimum power target', () => {
    const m = fleet(2, { ratedPowerW: 3000, canSleep: false, range: [1200, 3000] });
    const d = decide(m, inputs({ signalCapMW: 0 }), cfg());
    expect(d.commands.map((c) => [c.kind, c.targetW])).toEqual([
      ['target', 1200],
      ['target', 1200],
    ]);
    expect(d.shortfallMW).toBeCloseTo(0.0024, 12);
  });

  it('restores are paced and batched', () => {
    const m = fleet(10, { state: 'sleeping' });
    const c = cfg({ restoreBatchSize: 3, restorePacingMs: 5000 });
    const first = decide(m, inputs({ lastRestoreBatchAtMs: null }), c);
    expect(first.commands).toHaveLength(3);
    expect(first.restoreDeferred).toBe(7);
    const tooSoon = decide(m, inputs({ lastRestoreBatchAtMs: NOW - 4999 }), c);
    expect(tooSoon.commands).toHaveLength(0);
    expect(tooSoon.restoreDeferred).toBe(10);
    const later = decide(m, inputs({ lastRestoreBatchAtMs: NOW - 5000 }), c);
    expect(later.commands).toHaveLength(3);
  });

  it('a restore never wakes a machine that does not fit whole', () => {
    const m = fleet(2, { ratedPowerW: 3000, state: 'sleeping', powerW: 50 });
    const d = decide(m, inputs({ signalCapMW: 0.0059 }), cfg());
    // 100 W standby + 2 × 2950 W = 6 kW > 5.9 kW: only one wakes.
    expect(d.commands).toHaveLength(1);
  });
});

describe('decide: commands in flight, drift and failure', () => {
  const c = cfg({ confirmTimeoutMs: 10_000, maxAttempts: 3 });
  const sent = (attempts: number, agoMs: number, kind: MinerIntent['kind'] = 'sleep'): MinerIntent => ({ kind, sentAtMs: NOW - agoMs, attempts, status: 'pending' });

  it('a pending sleep within its window is counted asleep and not re-sent', () => {
    const m = [miner({ id: 'a', intent: sent(1, 2000) }), miner({ id: 'b' })];
    const d = decide(m, inputs({ signalCapMW: 0.0036 }), c);
    expect(d.commands).toHaveLength(0);
    expect(d.pending).toBe(1);
  });

  it('a miner that ignores sleep is retried, then marked failed, its power still counted, and another sleeps instead', () => {
    const m = [miner({ id: 'a', ratedHashrateThs: 100, intent: sent(1, 20_000) }), miner({ id: 'b', ratedHashrateThs: 200 }), miner({ id: 'c', ratedHashrateThs: 200 })];
    // The retry is sent but not counted on (it failed to obey once): another machine sheds in the same decision.
    const retry = decide(m, inputs({ signalCapMW: 0.0071 }), c);
    expect(retry.commands).toEqual([
      { minerId: 'a', kind: 'sleep', reason: 'retry', attempt: 2 },
      { minerId: 'b', kind: 'sleep', reason: 'curtail', attempt: 1 },
    ]);
    expect(retry.projectedMiningMW).toBeCloseTo(0.0035 + 0.0035 * 0.02 + 0.0035, 12);

    const m3 = [miner({ id: 'a', ratedHashrateThs: 100, intent: sent(3, 20_000) }), m[1] as MinerView, m[2] as MinerView];
    const failed = decide(m3, inputs({ signalCapMW: 0.0071 }), c);
    expect(failed.newlyFailed).toEqual(['a']);
    expect(failed.commands.map((x) => x.minerId)).toEqual(['b']);
    expect(failed.byStateMW.failed).toBeCloseTo(0.0035, 12);

    const later = [miner({ id: 'a', ratedHashrateThs: 100, intent: { ...sent(3, 20_000), status: 'failed', failedAtMs: NOW - 1000 } }), m[1] as MinerView, m[2] as MinerView];
    const stillFailed = decide(later, inputs({ signalCapMW: 0.0071 }), c);
    expect(stillFailed.commands.map((x) => x.minerId)).toEqual(['b']);
    expect(stillFailed.newlyFailed).toEqual([]);
  });

  it('a power target ramps inside the confirm window; settled above it afterwards is drift, then failure', () => {
    const t = (agoMs: number, attempts = 1): MinerIntent => ({ kind: 'target', targetW: 2000, sentAtMs: NOW - agoMs, attempts, status: 'confirmed' });
    const ramping = miner({ id: 'a', ratedPowerW: 3000, range: [1500, 3000], powerTargetW: 2000, powerW: 2900, intent: t(5_000) });
    const d1 = decide([ramping], inputs({ signalCapMW: 0.002 }), c);
    expect(d1.currentMiningMW).toBeCloseTo(0.002, 12); // counted at its target while it ramps
    expect(d1.commands).toEqual([]);
    const settledHigh = { ...ramping, intent: t(20_000) };
    expect(classifyIntent(settledHigh, NOW, c)).toBe('drifted');
    const d2 = decide([settledHigh], inputs({ signalCapMW: 0.002 }), c);
    expect(d2.commands).toEqual([{ minerId: 'a', kind: 'target', targetW: 2000, reason: 'retry', attempt: 2 }]);
    const exhausted = { ...ramping, intent: t(20_000, 3) };
    const d3 = decide([exhausted, miner({ id: 'b', ratedPowerW: 3000 })], inputs({ signalCapMW: 0.003 }), c);
    expect(d3.newlyFailed).toEqual(['a']);
    expect(d3.commands.map((x) => x.minerId)).toEqual(['b']);
    const obeyed = { ...ramping, reading: { state: 'mining' as const, hashrateThs: 150, powerW: 2050 }, intent: t(20_000) };
    expect(classifyIntent(obeyed, NOW, c)).toBe('confirmed');
  });

  it('a command read back in effect is confirmed', () => {
    const m = miner({ id: 'a', state: 'sleeping', intent: sent(1, 500) });
    const d = decide([m], inputs({ signalCapMW: 0 }), c);
    expect(d.newlyConfirmed).toEqual(['a']);
    expect(d.commands).toHaveLength(0);
  });
});

describe('decide: losing the plan or the price feed falls back to the safe mode', () => {
  const m = () => [...fleet(5, { id: 'up' }), ...fleet(5, { id: 'zz', state: 'sleeping' })];
  const stale = { source: 'plan' as const, stale: true as const, reason: 'plan ends at 2025-08-01T17:00:00Z' };
  it('hold keeps mining at the last verified level and wakes nothing above it', () => {
    const d = decide(m(), inputs({ target: stale, lastSafeMW: 0.01775 }), cfg({ safeMode: 'hold' }));
    expect(d.safeMode?.mode).toBe('hold');
    expect(d.allowedMiningMW).toBeCloseTo(0.01775, 12);
    expect(d.commands).toHaveLength(0);
    expect(d.limitedBy).toBe('safe-mode');
  });
  it('hold without any verified level curtails everything', () => {
    const d = decide(m(), inputs({ target: stale, lastSafeMW: null }), cfg({ safeMode: 'hold' }));
    expect(d.allowedMiningMW).toBe(0);
    expect(d.commands.filter((x) => x.kind === 'sleep')).toHaveLength(5);
  });
  it('curtail-all sleeps everything', () => {
    const d = decide(m(), inputs({ target: { source: 'rule', stale: true, reason: 'price feed silent for 1200 s' }, lastSafeMW: 1 }), cfg({ safeMode: 'curtail-all' }));
    expect(d.safeMode).toEqual({ mode: 'curtail-all', reason: 'price feed silent for 1200 s' });
    expect(d.commands.filter((x) => x.kind === 'sleep')).toHaveLength(5);
  });
});

describe('decide: restart reconciliation', () => {
  it('with no memory at all, only miners whose actual state differs get a command', () => {
    const m = [...fleet(6, { id: 'awake' }), ...fleet(4, { id: 'asleep', state: 'sleeping' })];
    const d = decide(m, inputs({ signalCapMW: 0 }), cfg());
    expect(d.commands.map((c) => c.minerId).sort()).toEqual(['awake00000', 'awake00001', 'awake00002', 'awake00003', 'awake00004', 'awake00005']);
  });
  it('is idempotent: deciding again on the result of its commands sends nothing', () => {
    const m = fleet(20, { range: [1500, 3600] });
    const d = decide(m, inputs({ signalCapMW: 0.05 }), cfg());
    const after = m.map((v) => {
      const cmd = d.commands.find((x) => x.minerId === v.id);
      if (!cmd) return v;
      if (cmd.kind === 'sleep') return { ...v, reading: { state: 'sleeping' as const, hashrateThs: 0, powerW: 50 }, intent: { kind: 'sleep' as const, sentAtMs: NOW, attempts: 1, status: 'confirmed' as const } };
      return { ...v, powerTargetW: cmd.targetW ?? null, reading: { state: 'mining' as const, hashrateThs: 150, powerW: cmd.targetW ?? null }, intent: { kind: cmd.kind, sentAtMs: NOW, attempts: 1, status: 'confirmed' as const } };
    });
    const again = decide(after, inputs({ signalCapMW: 0.05 }), cfg());
    expect(again.commands).toEqual([]);
  });
});

describe('waking until the hashrate shows', () => {
  const wake = (sentAtMs: number): MinerIntent => ({ kind: 'wake', sentAtMs, attempts: 1, status: 'confirmed', confirmedAtMs: sentAtMs + 500 });

  it("a miner the agent woke that reads 'mining' below 90 % of its hashrate is waking, counted at its level", () => {
    const c = cfg();
    const booting = miner({ hashrateThs: 40, powerW: 900, intent: wake(NOW - 60_000) });
    const hashing = miner({ hashrateThs: 190, intent: wake(NOW - 60_000) });
    const own = miner({ hashrateThs: 40, powerW: 900 }); // not woken by the agent: a weak miner, not a boot
    expect(effectiveState(booting, c)).toBe('waking');
    expect(effectiveState(hashing, c)).toBe('mining');
    expect(effectiveState(own, c)).toBe('mining');
    // Past the wake window a low hashrate is the machine's own.
    expect(effectiveState(miner({ hashrateThs: 40, intent: wake(NOW - 16 * 60_000) }), c)).toBe('mining');
    // The expected hashrate follows the agent's power target.
    expect(effectiveState(miner({ hashrateThs: 95, powerTargetW: 1750, intent: wake(NOW - 60_000) }), c)).toBe('mining');
    const d = decide([booting, hashing], inputs(), c);
    expect(d.byStateMW.waking).toBeCloseTo(0.0035, 9);
    expect(d.byStateMW.mining).toBeCloseTo(0.0035, 9);
    expect(d.currentMiningMW).toBeCloseTo(0.007, 9);
    expect(classifyIntent(booting, NOW, c)).toBe('confirmed');
  });
});

describe('the reason for every curtailment', () => {
  const fleet = (): MinerView[] => Array.from({ length: 10 }, (_, i) => miner({ id: `r${i}` }));

  it('names the binding limit: signal, price (strike rule), plan, import-limit, meter, safe-mode', () => {
    const c = cfg();
    const rule = inputs({ target: { source: 'rule', stale: false, targetMW: 0.02 } });
    expect(decide(fleet(), rule, c).curtailReason).toBe('price');
    expect(decide(fleet(), inputs({ target: { source: 'plan', stale: false, targetMW: 0.02 } }), c).curtailReason).toBe('plan');
    expect(decide(fleet(), inputs({ signalCapMW: 0.01 }), c).curtailReason).toBe('signal');
    expect(decide(fleet(), inputs(), cfg({ importLimitMW: 0.02 })).curtailReason).toBe('import-limit');
    // 35 kW of miners under a 40 kW limit; the meter shows 10 kW nothing explains: the meter pushed it over.
    expect(decide(fleet(), inputs({ meter: { siteMW: 0.045, atMs: NOW } }), cfg({ importLimitMW: 0.04 })).curtailReason).toBe('meter');
    expect(decide(fleet(), inputs({ target: { source: 'plan', stale: true, reason: 'gone' } }), c).curtailReason).toBe('safe-mode');
    // Nothing to curtail: no reason.
    expect(decide(fleet(), inputs(), c).curtailReason).toBeNull();
    expect(curtailReason('reserve-floor', 'plan', { meterExcessMW: 0, projectedMW: 1, allowedMW: 0 })).toBe('reserve-floor');
  });
});
