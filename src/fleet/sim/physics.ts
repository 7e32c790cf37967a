import type { FirmwareProfile } from './firmware.js';
import type { CurvePoint, SimModel } from './models.js';
import { smoothNoise, unit } from './rng.js';

/**
 * Pure physics of one simulated miner. Nothing here reads a clock or does I/O: every function
 * takes the sim time `tMs` (ms since epoch, UTC) and returns new values, so tests step time by
 * hand and the servers evaluate lazily on each request (no per-miner timers at 50,000 miners).
 *
 * States: mining, sleeping, waking (boot-like init, then a linear ramp to the target over
 * minutes), tuning (moving to a new power target along the efficiency curve), rebooting (boot
 * power, no hashing, then waking or sleeping), off (no power, not reachable).
 */
export const MINER_STATES = ['mining', 'sleeping', 'waking', 'tuning', 'rebooting', 'off'] as const;
export type MinerState = (typeof MINER_STATES)[number];

export interface PhysicsEnv {
  readonly model: SimModel;
  readonly timing: Pick<FirmwareProfile, 'wakeRampMs' | 'wakeInitFraction' | 'tuneRampMs' | 'rebootMs'>;
  /** Per-miner seed: noise and sensor offsets. */
  readonly seed: number;
  /** Intake air temperature, °C. */
  readonly ambientC: number;
}

export interface MinerPhysics {
  readonly state: MinerState;
  /** When the current state began (sim ms). */
  readonly sinceMs: number;
  /** When waking / tuning / rebooting ends (sim ms); Infinity for the steady states. */
  readonly untilMs: number;
  /** Power the miner mines at once settled (W): the nameplate, or the last power target. */
  readonly targetPowerW: number;
  /** Power at the start of the current tuning move (W). */
  readonly rampFromW: number;
  /** What a reboot ends in: the wake ramp back to mining, or sleep (saved work mode). */
  readonly afterReboot: 'mining' | 'sleeping';
  /** Last boot (sim ms), for the firmware's `Elapsed`. */
  readonly bootMs: number;
  readonly chipTempC: number;
  readonly boardTempC: number;
  /** Sim time the temperatures are integrated up to. */
  readonly tempAtMs: number;
}

export type PhysicsCommand =
  | { readonly kind: 'sleep' }
  | { readonly kind: 'wake' }
  | { readonly kind: 'set-power'; readonly powerW: number }
  /** `durationMs` overrides the firmware's boot time; `keepSleep` makes a sleeping miner boot back asleep. */
  | { readonly kind: 'reboot'; readonly durationMs?: number; readonly keepSleep?: boolean }
  | { readonly kind: 'power-off' }
  | { readonly kind: 'power-on' };

/** Chip and board temperature rise over intake at nameplate power, °C; scales with power. */
const CHIP_RISE_C = 45;
const BOARD_RISE_C = 35;
/** First-order thermal time constants (ms): chips follow power faster than the boards. */
export const CHIP_TAU_MS = 60_000;
export const BOARD_TAU_MS = 150_000;
const MAX_STEP_MS = 5_000;

function interp(curve: readonly CurvePoint[], x: number): number {
  const first = curve[0];
  const last = curve[curve.length - 1];
  if (!first || !last || curve.length < 2) throw new Error('efficiency curve needs two points');
  // Extrapolate with the end segments rather than clamping, so the curve stays monotonic.
  let i = 0;
  while (i < curve.length - 2 && x > (curve[i + 1] as CurvePoint)[0]) i++;
  const [x0, y0] = curve[i] as CurvePoint;
  const [x1, y1] = curve[i + 1] as CurvePoint;
  return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
}

/** J/TH relative to nameplate at a power ratio (power / nameplate power), on the model's curve. */
export function efficiencyFactor(model: SimModel, powerRatio: number): number {
  return interp(model.efficiencyCurve, powerRatio);
}

/** Efficiency at a wall power, J/TH. */
export function jPerThAt(model: SimModel, powerW: number): number {
  return (model.ratedPowerW / model.ratedHashrateThs) * efficiencyFactor(model, powerW / model.ratedPowerW);
}

/** Hashrate when settled at a wall power, TH/s (noise-free). */
export function hashrateAtPowerThs(model: SimModel, powerW: number): number {
  return powerW <= 0 ? 0 : powerW / jPerThAt(model, powerW);
}

/** Inverse of hashrateAtPowerThs: wall power for a hashrate, W (bisection; monotonic curve). */
export function powerForHashrateW(model: SimModel, hashrateThs: number): number {
  let lo = 0;
  let hi = model.ratedPowerW * 3;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (hashrateAtPowerThs(model, mid) < hashrateThs) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Clamps a requested power target to what the model can be tuned to, W. */
export function clampPowerTarget(model: SimModel, powerW: number): number {
  return Math.min(model.maxPowerW, Math.max(model.minPowerW, powerW));
}

/** A miner at `tMs` in `state` (mining or sleeping), temperatures settled, booted some days ago. */
export function createPhysics(env: PhysicsEnv, tMs: number, state: 'mining' | 'sleeping' = 'mining'): MinerPhysics {
  const uptimeMs = Math.floor((1 + unit(env.seed, 77) * 29) * 86_400_000);
  const base: MinerPhysics = {
    state,
    sinceMs: tMs,
    untilMs: Infinity,
    targetPowerW: env.model.ratedPowerW,
    rampFromW: env.model.ratedPowerW,
    afterReboot: 'mining',
    bootMs: tMs - uptimeMs,
    chipTempC: env.ambientC,
    boardTempC: env.ambientC,
    tempAtMs: tMs,
  };
  const p = basePowerW(base, env, tMs);
  return { ...base, chipTempC: chipSteadyC(env, p), boardTempC: boardSteadyC(env, p) };
}

function chipSteadyC(env: PhysicsEnv, powerW: number): number {
  return env.ambientC + (CHIP_RISE_C * powerW) / env.model.ratedPowerW;
}
function boardSteadyC(env: PhysicsEnv, powerW: number): number {
  return env.ambientC + (BOARD_RISE_C * powerW) / env.model.ratedPowerW;
}

function rampFraction(p: MinerPhysics, tMs: number): number {
  const span = p.untilMs - p.sinceMs;
  if (!(span > 0)) return 1;
  return Math.min(1, Math.max(0, (tMs - p.sinceMs) / span));
}

/** Noise-free wall power at `tMs` given the state does not change before then, W. */
export function basePowerW(p: MinerPhysics, env: PhysicsEnv, tMs: number): number {
  const m = env.model;
  switch (p.state) {
    case 'mining':
      return p.targetPowerW;
    case 'sleeping':
      return m.sleepPowerW;
    case 'off':
      return 0;
    case 'rebooting':
      return m.bootPowerW;
    case 'waking': {
      const f = rampFraction(p, tMs);
      const init = env.timing.wakeInitFraction;
      if (f < init) return m.bootPowerW;
      return m.bootPowerW + ((p.targetPowerW - m.bootPowerW) * (f - init)) / (1 - init);
    }
    case 'tuning':
      return p.rampFromW + (p.targetPowerW - p.rampFromW) * rampFraction(p, tMs);
  }
}

/** Noise-free hashrate at `tMs`, TH/s. */
export function baseHashrateThs(p: MinerPhysics, env: PhysicsEnv, tMs: number): number {
  switch (p.state) {
    case 'mining':
    case 'tuning':
      return hashrateAtPowerThs(env.model, basePowerW(p, env, tMs));
    case 'waking': {
      const f = rampFraction(p, tMs);
      const init = env.timing.wakeInitFraction;
      if (f < init) return 0;
      return (hashrateAtPowerThs(env.model, p.targetPowerW) * (f - init)) / (1 - init);
    }
    case 'sleeping':
    case 'rebooting':
    case 'off':
      return 0;
  }
}

function integrateTemps(p: MinerPhysics, env: PhysicsEnv, toMs: number): MinerPhysics {
  if (toMs <= p.tempAtMs) return p;
  // Older history has decayed away (e^-10): start the integration no earlier than 10 τ back.
  let t = Math.max(p.tempAtMs, toMs - 10 * BOARD_TAU_MS);
  let chip = p.chipTempC;
  let board = p.boardTempC;
  while (t < toMs) {
    const dt = Math.min(MAX_STEP_MS, toMs - t);
    const power = basePowerW(p, env, t + dt / 2);
    chip += (chipSteadyC(env, power) - chip) * (1 - Math.exp(-dt / CHIP_TAU_MS));
    board += (boardSteadyC(env, power) - board) * (1 - Math.exp(-dt / BOARD_TAU_MS));
    t += dt;
  }
  return { ...p, chipTempC: chip, boardTempC: board, tempAtMs: toMs };
}

/** Moves the miner to `tMs`: time-driven transitions (ramps ending, boots finishing) and temperatures. */
export function advance(p: MinerPhysics, env: PhysicsEnv, tMs: number): MinerPhysics {
  let cur = p;
  // A handful of transitions at most (rebooting → waking → mining); the bound guards a bad input.
  for (let guard = 0; guard < 8 && cur.untilMs <= tMs; guard++) {
    cur = integrateTemps(cur, env, cur.untilMs);
    const at = cur.untilMs;
    switch (cur.state) {
      case 'waking':
      case 'tuning':
        cur = { ...cur, state: 'mining', sinceMs: at, untilMs: Infinity };
        break;
      case 'rebooting':
        cur =
          cur.afterReboot === 'sleeping'
            ? { ...cur, state: 'sleeping', sinceMs: at, untilMs: Infinity, bootMs: at }
            : { ...cur, state: 'waking', sinceMs: at, untilMs: at + env.timing.wakeRampMs, bootMs: at };
        break;
      case 'mining':
      case 'sleeping':
      case 'off':
        cur = { ...cur, untilMs: Infinity };
        break;
    }
  }
  return integrateTemps(cur, env, tMs);
}

/** Applies a command at `tMs` (after advancing to it) and returns the new physics state. */
export function applyCommand(p0: MinerPhysics, env: PhysicsEnv, tMs: number, cmd: PhysicsCommand): MinerPhysics {
  const p = advance(p0, env, tMs);
  switch (cmd.kind) {
    case 'sleep':
      if (p.state === 'mining' || p.state === 'waking' || p.state === 'tuning') {
        return { ...p, state: 'sleeping', sinceMs: tMs, untilMs: Infinity };
      }
      if (p.state === 'rebooting') return { ...p, afterReboot: 'sleeping' };
      return p;
    case 'wake':
      if (p.state === 'sleeping') return { ...p, state: 'waking', sinceMs: tMs, untilMs: tMs + env.timing.wakeRampMs };
      if (p.state === 'rebooting') return { ...p, afterReboot: 'mining' };
      return p;
    case 'set-power': {
      const target = clampPowerTarget(env.model, cmd.powerW);
      if (p.state === 'mining' || p.state === 'tuning') {
        if (p.state === 'mining' && target === p.targetPowerW) return p;
        const from = basePowerW(p, env, tMs);
        return { ...p, state: 'tuning', sinceMs: tMs, untilMs: tMs + env.timing.tuneRampMs, rampFromW: from, targetPowerW: target };
      }
      // Waking ramps to the new target; asleep, rebooting or off it applies later.
      return { ...p, targetPowerW: target };
    }
    case 'reboot': {
      if (p.state === 'off') return p;
      const keep = cmd.keepSleep === true && p.state === 'sleeping';
      const dur = cmd.durationMs ?? env.timing.rebootMs;
      return { ...p, state: 'rebooting', sinceMs: tMs, untilMs: tMs + dur, afterReboot: keep ? 'sleeping' : 'mining' };
    }
    case 'power-off':
      return { ...p, state: 'off', sinceMs: tMs, untilMs: Infinity };
    case 'power-on':
      if (p.state !== 'off') return p;
      return { ...p, state: 'rebooting', sinceMs: tMs, untilMs: tMs + env.timing.rebootMs, afterReboot: 'mining' };
  }
}

/** What the miner's sensors would read at `tMs` (call after `advance`). Units in the names. */
export interface Telemetry {
  readonly state: MinerState;
  readonly powerW: number;
  readonly hashrateThs: number;
  /** The hashrate the firmware aims for once settled (nameplate or tuned), TH/s. */
  readonly targetHashrateThs: number;
  readonly targetPowerW: number;
  readonly chipTempC: number;
  readonly boardTempC: number;
  readonly fanRpm: number;
  /** Seconds since the last boot. */
  readonly uptimeS: number;
}

/** Wall power at `tMs` with seeded sensor noise (±0.4 %), W. Cheap: no temperature work. */
export function powerW(p: MinerPhysics, env: PhysicsEnv, tMs: number): number {
  return p.state === 'off' ? 0 : basePowerW(p, env, tMs) * (1 + 0.004 * smoothNoise(env.seed, 1, tMs, 7_000));
}

/** Sensor readings with seeded noise: power ±0.4 %, hashrate ±1.5 %, fans ±1 %. */
export function telemetry(p: MinerPhysics, env: PhysicsEnv, tMs: number): Telemetry {
  const baseHash = baseHashrateThs(p, env, tMs);
  const hashrateThs = baseHash * (1 + 0.015 * smoothNoise(env.seed, 2, tMs, 5_000));
  const m = env.model;
  let fanRpm: number;
  if (p.state === 'off') fanRpm = 0;
  else if (p.state === 'rebooting') fanRpm = m.maxFanRpm * 0.9;
  else {
    const minRpm = 1200;
    const x = Math.min(1, Math.max(0, (p.chipTempC - 40) / 40));
    fanRpm = (minRpm + x * (m.maxFanRpm - minRpm)) * (1 + 0.01 * smoothNoise(env.seed, 3, tMs, 11_000));
  }
  return {
    state: p.state,
    powerW: powerW(p, env, tMs),
    hashrateThs,
    targetHashrateThs: hashrateAtPowerThs(m, p.targetPowerW),
    targetPowerW: p.targetPowerW,
    chipTempC: p.chipTempC,
    boardTempC: p.boardTempC,
    fanRpm: Math.round(fanRpm / 60) * 60,
    uptimeS: Math.max(0, Math.floor((tMs - p.bootMs) / 1000)),
  };
}
