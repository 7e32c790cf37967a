import { describe, expect, it } from 'vitest';
import { FIRMWARE_PROFILES } from './firmware.js';
import { findModel, type SimModel } from './models.js';
import {
  CHIP_TAU_MS,
  advance,
  applyCommand,
  basePowerW,
  baseHashrateThs,
  createPhysics,
  efficiencyFactor,
  hashrateAtPowerThs,
  jPerThAt,
  powerForHashrateW,
  telemetry,
  type PhysicsEnv,
} from './physics.js';

const S21: SimModel = findModel('Antminer S21');
const T0 = Date.UTC(2026, 0, 1);
const env: PhysicsEnv = { model: S21, timing: FIRMWARE_PROFILES['antminer-stock'], seed: 42, ambientC: 25 };

describe('efficiency curve', () => {
  it('uses the catalog curve: nameplate at 100 %, piecewise-linear between points', () => {
    expect(S21.curveSource).toBe('catalog');
    expect(efficiencyFactor(S21, 1)).toBe(1);
    // Catalog S21 points: 0.8 → 16.3 J/TH, 0.9 → 16.9 J/TH; nameplate 17.5 J/TH.
    expect(efficiencyFactor(S21, 0.85)).toBeCloseTo(16.6 / 17.5, 12);
    expect(jPerThAt(S21, 0.85 * 3500)).toBeCloseTo(16.6, 9);
    expect(jPerThAt(S21, 3500)).toBeCloseTo(17.5, 12);
    expect(hashrateAtPowerThs(S21, 3500)).toBeCloseTo(200, 9);
  });
  it('under-volting lowers J/TH, over-clocking raises it, hashrate stays monotonic in power', () => {
    expect(jPerThAt(S21, 1750)).toBeLessThan(17.5);
    expect(jPerThAt(S21, 4200)).toBeGreaterThan(17.5);
    let prev = 0;
    for (let w = 500; w <= 5000; w += 50) {
      const h = hashrateAtPowerThs(S21, w);
      expect(h).toBeGreaterThan(prev);
      prev = h;
    }
  });
  it('inverts to the power for a hashrate', () => {
    expect(powerForHashrateW(S21, 200)).toBeCloseTo(3500, 6);
    expect(hashrateAtPowerThs(S21, powerForHashrateW(S21, 123.4))).toBeCloseTo(123.4, 6);
  });
});

describe('state machine', () => {
  it('starts mining at nameplate with settled temperatures', () => {
    const p = createPhysics(env, T0);
    expect(p.state).toBe('mining');
    expect(basePowerW(p, env, T0)).toBe(3500);
    expect(baseHashrateThs(p, env, T0)).toBeCloseTo(200, 9);
    expect(p.chipTempC).toBeCloseTo(70, 9);
    expect(p.boardTempC).toBeCloseTo(60, 9);
  });

  it('sleeps at once, then wakes along a boot-like init and a linear ramp', () => {
    let p = applyCommand(createPhysics(env, T0), env, T0 + 1000, { kind: 'sleep' });
    expect(p.state).toBe('sleeping');
    expect(basePowerW(p, env, T0 + 1000)).toBe(S21.sleepPowerW);
    expect(baseHashrateThs(p, env, T0 + 1000)).toBe(0);

    const wakeAt = T0 + 600_000;
    p = applyCommand(p, env, wakeAt, { kind: 'wake' });
    expect(p.state).toBe('waking');
    expect(p.untilMs).toBe(wakeAt + 180_000);
    // Init phase: the first 30 % of 180 s draws boot power and hashes nothing.
    expect(basePowerW(p, env, wakeAt + 30_000)).toBe(S21.bootPowerW);
    expect(baseHashrateThs(p, env, wakeAt + 30_000)).toBe(0);
    // Half-way through the linear part (54 s + 63 s): halfway between boot power and nameplate.
    expect(basePowerW(p, env, wakeAt + 117_000)).toBeCloseTo((60 + 3500) / 2, 9);
    expect(baseHashrateThs(p, env, wakeAt + 117_000)).toBeCloseTo(100, 9);
    p = advance(p, env, wakeAt + 180_000);
    expect(p.state).toBe('mining');
    expect(basePowerW(p, env, wakeAt + 200_000)).toBe(3500);
  });

  it('tunes to a clamped power target along the curve', () => {
    let p = createPhysics(env, T0);
    p = applyCommand(p, env, T0, { kind: 'set-power', powerW: 2000 });
    expect(p.state).toBe('tuning');
    expect(basePowerW(p, env, T0 + 30_000)).toBeCloseTo(2750, 9);
    p = advance(p, env, T0 + 60_000);
    expect(p.state).toBe('mining');
    expect(basePowerW(p, env, T0 + 60_000)).toBe(2000);
    expect(baseHashrateThs(p, env, T0 + 60_000)).toBeCloseTo(2000 / jPerThAt(S21, 2000), 9);
    // Below the model's range: clamped to the curve's lowest point (50 % of nameplate).
    p = advance(applyCommand(p, env, T0 + 70_000, { kind: 'set-power', powerW: 10 }), env, T0 + 200_000);
    expect(p.targetPowerW).toBe(S21.minPowerW);
    // A target set while asleep applies on the next wake.
    p = applyCommand(p, env, T0 + 210_000, { kind: 'sleep' });
    p = applyCommand(p, env, T0 + 220_000, { kind: 'set-power', powerW: 3000 });
    expect(p.state).toBe('sleeping');
    p = advance(applyCommand(p, env, T0 + 230_000, { kind: 'wake' }), env, T0 + 500_000);
    expect(basePowerW(p, env, T0 + 500_000)).toBe(3000);
  });

  it('reboots through boot power and the wake ramp back to mining; keepSleep boots asleep', () => {
    let p = applyCommand(createPhysics(env, T0), env, T0, { kind: 'reboot', durationMs: 20_000 });
    expect(p.state).toBe('rebooting');
    expect(basePowerW(p, env, T0 + 10_000)).toBe(S21.bootPowerW);
    p = advance(p, env, T0 + 20_000);
    expect(p.state).toBe('waking');
    expect(p.bootMs).toBe(T0 + 20_000);
    p = advance(p, env, T0 + 20_000 + 180_000);
    expect(p.state).toBe('mining');

    let s = applyCommand(createPhysics(env, T0, 'sleeping'), env, T0, { kind: 'reboot', keepSleep: true });
    s = advance(s, env, T0 + 61_000);
    expect(s.state).toBe('sleeping');
  });

  it('power-off reads zero; power-on boots', () => {
    let p = applyCommand(createPhysics(env, T0), env, T0, { kind: 'power-off' });
    expect(telemetry(p, env, T0).powerW).toBe(0);
    expect(telemetry(p, env, T0).fanRpm).toBe(0);
    p = applyCommand(p, env, T0 + 5000, { kind: 'power-on' });
    expect(p.state).toBe('rebooting');
    expect(advance(p, env, T0 + 5000 + 60_000 + 180_000).state).toBe('mining');
  });

  it('wake on a mining miner and sleep on a sleeping miner are no-ops', () => {
    const p = createPhysics(env, T0);
    expect(applyCommand(p, env, T0, { kind: 'wake' })).toEqual(p);
    const s = applyCommand(p, env, T0, { kind: 'sleep' });
    expect(applyCommand(s, env, T0, { kind: 'sleep' })).toEqual(s);
  });
});

describe('temperatures and sensors', () => {
  it('follow power with a first-order lag', () => {
    let p = applyCommand(createPhysics(env, T0), env, T0, { kind: 'sleep' });
    const steadySleep = 25 + (45 * S21.sleepPowerW) / 3500;
    p = advance(p, env, T0 + CHIP_TAU_MS);
    // After one time constant, e^-1 of the step remains.
    expect(p.chipTempC - steadySleep).toBeCloseTo((70 - steadySleep) * Math.exp(-1), 6);
    p = advance(p, env, T0 + 3_600_000);
    expect(p.chipTempC).toBeCloseTo(steadySleep, 6);
  });

  it('integrating in many small reads equals one big read', () => {
    const start = applyCommand(createPhysics(env, T0), env, T0, { kind: 'set-power', powerW: 2000 });
    let stepwise = start;
    for (let t = T0; t <= T0 + 100_000; t += 1_000) stepwise = advance(stepwise, env, t);
    const once = advance(start, env, T0 + 100_000);
    expect(stepwise.chipTempC).toBeCloseTo(once.chipTempC, 1);
  });

  it('noise is seeded, bounded and independent of the read order', () => {
    const p = createPhysics(env, T0);
    const a = telemetry(p, env, T0 + 12_345);
    const b = telemetry(p, env, T0 + 12_345);
    expect(a).toEqual(b);
    for (let t = T0; t < T0 + 100_000; t += 997) {
      const r = telemetry(p, env, t);
      expect(Math.abs(r.powerW / 3500 - 1)).toBeLessThanOrEqual(0.004 + 1e-12);
      expect(Math.abs(r.hashrateThs / 200 - 1)).toBeLessThanOrEqual(0.015 + 1e-12);
      expect(r.fanRpm % 60).toBe(0);
    }
    const other = telemetry(createPhysics({ ...env, seed: 43 }, T0), { ...env, seed: 43 }, T0 + 12_345);
    expect(other.powerW).not.toBe(a.powerW);
  });
});
