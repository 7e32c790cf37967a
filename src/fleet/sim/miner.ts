import type { Clock } from '../../core/time.js';
import { DEFAULT_REFUSED_MS, FaultState, type ActiveFault, type FaultSpec, type LyingFault } from './faults.js';
import { FIRMWARE_PROFILES, type FirmwareId, type FirmwareProfile } from './firmware.js';
import type { SimModel } from './models.js';
import { advance, applyCommand, createPhysics, powerW, telemetry, type MinerPhysics, type MinerState, type PhysicsCommand, type PhysicsEnv, type Telemetry } from './physics.js';
import { hash32, Rng, unit } from './rng.js';
import { whatsminerAesKey, whatsminerKey } from './wm-crypto.js';

/**
 * Sim clock: device time, runs `timeScale` times faster than the wall (physics, `When`, ramps).
 * Wall clock: protocol timers (LuxOS session idle, Whatsminer token life, digest nonce TTL, fault
 * durations), so a fast-forwarded demo does not expire a driver's session under its feet.
 */
export interface SimClocks {
  readonly sim: Clock;
  readonly wall: Clock;
}

export interface MinerSpec {
  readonly index: number;
  readonly ip: string;
  readonly firmware: FirmwareId;
  readonly model: SimModel;
  /** Per-miner seed (derived from the fleet seed and the index). */
  readonly seed: number;
}

export interface MinerOptions {
  /** Intake air temperature, °C (each miner adds a seeded ±2 °C offset). */
  readonly ambientC: number;
  readonly faultRate: number;
  readonly antminerUser: string;
  readonly antminerPassword: string;
  readonly whatsminerPassword: string;
  /**
   * Salt of the stored admin password hash (get_token's "salt"). Factory images ship the same
   * hash, so by default every simulated Whatsminer shares it and the derived key is computed once.
   */
  readonly whatsminerSalt: string;
  readonly luxSessionIdleMs: number;
  readonly wmTokenLifeMs: number;
  readonly wmMaxTokens: number;
  readonly nonceTtlMs: number;
  /** Start asleep instead of mining. */
  readonly startAsleep: boolean;
}

export const DEFAULT_MINER_OPTIONS: MinerOptions = {
  ambientC: 25,
  faultRate: 0,
  antminerUser: 'root',
  antminerPassword: 'root',
  whatsminerPassword: 'admin',
  whatsminerSalt: 'Fa4ct0ry',
  luxSessionIdleMs: 60_000,
  wmTokenLifeMs: 30 * 60_000,
  wmMaxTokens: 32,
  nonceTtlMs: 600_000,
  startAsleep: false,
};

/** One line of ground truth: what the miner really does, for tests and benchmarks to verify against. */
export interface MinerTruth {
  readonly index: number;
  readonly ip: string;
  readonly firmware: FirmwareId;
  readonly model: string;
  readonly modelName: string;
  readonly state: MinerState;
  readonly powerW: number;
  readonly hashrateThs: number;
  readonly targetPowerW: number;
  readonly ratedPowerW: number;
  readonly minPowerW: number;
  readonly maxPowerW: number;
  /** What the firmware reports it was told (work mode 1, CurtailMode Sleep, btmineroff, paused). */
  readonly sleepCommanded: boolean;
  readonly chipTempC: number;
  readonly fanRpm: number;
  /** Listeners open (false while rebooting, off, or refusing). */
  readonly listening: boolean;
  readonly faults: readonly { readonly kind: string; readonly remaining: number | null; readonly untilWallMs: number | null }[];
  readonly requests: number;
  readonly writes: number;
  readonly lastWrite: { readonly command: string; readonly wallMs: number } | null;
}

const keyCache = new Map<string, { key: string; aes: Buffer }>();

function derivedKeys(password: string, salt: string): { key: string; aes: Buffer } {
  const id = `${password}\0${salt}`;
  let k = keyCache.get(id);
  if (!k) {
    const key = whatsminerKey(password, salt);
    k = { key, aes: whatsminerAesKey(key) };
    keyCache.set(id, k);
  }
  return k;
}

/** One simulated miner: physics, faults, auth state and the firmware-visible settings. */
export class SimMiner {
  readonly index: number;
  readonly ip: string;
  readonly profile: FirmwareProfile;
  readonly model: SimModel;
  readonly env: PhysicsEnv;
  readonly faults: FaultState;
  readonly seed: number;
  private physics: MinerPhysics;
  private readonly rng: Rng;

  /** Bumped by auth-expiry: LuxOS session, Whatsminer tokens and digest nonces of older epochs die. */
  authEpoch = 0;
  luxSession: { id: string; lastUsedWallMs: number } | undefined;
  private wmTokens: Map<string, number> | undefined;
  private wmKeyCache: { key: string; aes: Buffer } | undefined;
  /** Salt of the stored admin password hash (fixed per device). */
  readonly wmSalt: string;

  /** Firmware-visible settings. */
  sleepCommanded = false;
  luxProfile = 'default';
  wmPowerLimitW: number;
  /** bmminer restarts when its config is written; `Elapsed` counts from here (sim ms). */
  apiStartSimMs: number;

  listening = false;
  requests = 0;
  writes = 0;
  lastWrite: { command: string; wallMs: number } | null = null;

  constructor(
    spec: MinerSpec,
    readonly clocks: SimClocks,
    readonly opts: MinerOptions,
  ) {
    this.index = spec.index;
    this.ip = spec.ip;
    this.seed = spec.seed;
    this.profile = FIRMWARE_PROFILES[spec.firmware];
    this.model = spec.model;
    this.env = { model: spec.model, timing: this.profile, seed: spec.seed, ambientC: opts.ambientC + (unit(spec.seed, 5) * 4 - 2) };
    this.faults = new FaultState(spec.seed, opts.faultRate);
    this.rng = new Rng(hash32(spec.seed, 11));
    this.wmSalt = opts.whatsminerSalt;
    this.physics = createPhysics(this.env, clocks.sim.nowMs(), opts.startAsleep ? 'sleeping' : 'mining');
    this.sleepCommanded = opts.startAsleep;
    this.wmPowerLimitW = spec.model.ratedPowerW;
    this.apiStartSimMs = this.physics.bootMs;
  }

  get firmware(): FirmwareId {
    return this.profile.id;
  }

  /** Physics advanced to the sim clock's now. */
  current(): MinerPhysics {
    this.physics = advance(this.physics, this.env, this.clocks.sim.nowMs());
    return this.physics;
  }

  /** Physics with due transitions applied, temperatures left for the next full read (cheap). */
  private settledState(): MinerPhysics {
    const t = this.clocks.sim.nowMs();
    if (this.physics.untilMs <= t) this.physics = advance(this.physics, this.env, t);
    return this.physics;
  }

  /** Wall power now, W (the meter's fast path: 50,000 miners per reading). */
  powerNow(): number {
    return powerW(this.settledState(), this.env, this.clocks.sim.nowMs());
  }

  /** State now (fast path). */
  stateNow(): MinerState {
    return this.settledState().state;
  }

  /** Sensor readings now, as the firmware reports them (lying faults applied; advances physics). */
  read(): Telemetry {
    const t = this.readTrue();
    const wall = this.clocks.wall.nowMs();
    if (this.faults.lies('fake-sleep', wall)) return { ...t, state: 'sleeping', hashrateThs: 0, powerW: this.model.sleepPowerW };
    if (this.faults.lies('implausible', wall)) return { ...t, powerW: 1e12, hashrateThs: -Math.max(1, t.hashrateThs) };
    return t;
  }

  /** Sensor readings now, as they really are (ground truth). */
  private readTrue(): Telemetry {
    return telemetry(this.current(), this.env, this.clocks.sim.nowMs());
  }

  /** True while a lying fault of this kind is active. */
  lies(kind: LyingFault): boolean {
    return this.faults.lies(kind, this.clocks.wall.nowMs());
  }

  /** What the firmware says it was told: asleep while a fake-sleep fault is active. */
  reportsSleep(): boolean {
    return this.sleepCommanded || this.lies('fake-sleep');
  }

  /** Device clock for `When`, unix seconds. */
  whenS(): number {
    return Math.floor(this.clocks.sim.nowMs() / 1000);
  }

  /** Applies a physics command now; with `command`, records it as a write (ground truth). */
  apply(cmd: PhysicsCommand, command?: string): void {
    this.physics = applyCommand(this.physics, this.env, this.clocks.sim.nowMs(), cmd);
    if (command !== undefined) this.recordWrite(command);
  }

  recordWrite(command: string): void {
    this.writes++;
    this.lastWrite = { command, wallMs: this.clocks.wall.nowMs() };
  }

  /**
   * A sleep command: the firmware records it and the miner sleeps, unless an ignore-sleep fault
   * makes it acknowledge and keep mining. Returns true when it really went to sleep.
   */
  sleep(command: string): boolean {
    this.sleepCommanded = true;
    if (this.faults.takeIgnoreSleep(this.clocks.wall.nowMs())) {
      this.recordWrite(command);
      return false;
    }
    this.apply({ kind: 'sleep' }, command);
    return true;
  }

  wake(command: string): void {
    this.sleepCommanded = false;
    this.apply({ kind: 'wake' }, command);
  }

  /** Reboot now for `durationMs` of sim time (default: the firmware's boot time). */
  reboot(command: string, durationMs?: number): void {
    this.apply({ kind: 'reboot', keepSleep: this.profile.sleepSurvivesReboot && this.sleepCommanded, ...(durationMs === undefined ? {} : { durationMs }) }, command);
    if (!this.profile.sleepSurvivesReboot) this.sleepCommanded = false;
  }

  /** Adds a fault; auth-expiry acts at once and is not kept. */
  addFault(spec: FaultSpec): void {
    if (spec.kind === 'auth-expiry') {
      this.expireAuth();
      return;
    }
    const withDefaults = spec.kind === 'refused' && spec.durationMs === undefined ? { ...spec, durationMs: DEFAULT_REFUSED_MS } : spec;
    this.faults.add(withDefaults, this.clocks.wall.nowMs());
  }

  /** Invalidates the LuxOS session, every Whatsminer token and every digest nonce issued so far. */
  expireAuth(): void {
    this.authEpoch++;
    this.luxSession = undefined;
    this.wmTokens = undefined;
  }

  /** Listeners should be open: not rebooting, not off, not refusing. */
  shouldListen(): boolean {
    const s = this.current().state;
    return s !== 'rebooting' && s !== 'off' && this.faults.refusedUntil(this.clocks.wall.nowMs()) <= this.clocks.wall.nowMs();
  }

  // --- LuxOS session ------------------------------------------------------------------------

  /** The live session, or undefined (expired after the idle time). */
  liveLuxSession(): { id: string; lastUsedWallMs: number } | undefined {
    const s = this.luxSession;
    if (s && this.clocks.wall.nowMs() - s.lastUsedWallMs > this.opts.luxSessionIdleMs) this.luxSession = undefined;
    return this.luxSession;
  }

  /** Opens a session (undefined when one is already active). */
  luxLogon(): string | undefined {
    if (this.liveLuxSession()) return undefined;
    const id = this.rng.chars(8);
    this.luxSession = { id, lastUsedWallMs: this.clocks.wall.nowMs() };
    return id;
  }

  /** True when `id` is the live session; refreshes its idle timer. */
  luxTouch(id: string): boolean {
    const s = this.liveLuxSession();
    if (!s || s.id !== id) return false;
    s.lastUsedWallMs = this.clocks.wall.nowMs();
    return true;
  }

  // --- Whatsminer tokens --------------------------------------------------------------------

  /** The derived key and AES key (md5-crypt costs ~1.5 ms: cached per password and salt). */
  wmKeys(): { key: string; aes: Buffer } {
    this.wmKeyCache ??= derivedKeys(this.opts.whatsminerPassword, this.wmSalt);
    return this.wmKeyCache;
  }

  private liveTokens(): Map<string, number> {
    const now = this.clocks.wall.nowMs();
    const m = (this.wmTokens ??= new Map<string, number>());
    for (const [t, exp] of m) if (exp <= now) m.delete(t);
    return m;
  }

  /** Issues a token; undefined when the live-token limit is reached (code 136). */
  wmIssueToken(sign: (key: string, time: string, newsalt: string) => string): { time: string; newsalt: string } | undefined {
    const live = this.liveTokens();
    if (live.size >= this.opts.wmMaxTokens) return undefined;
    const time = String(Math.floor(this.clocks.wall.nowMs() / 1000) % 10000).padStart(4, '0');
    const newsalt = this.rng.chars(8);
    live.set(sign(this.wmKeys().key, time, newsalt), this.clocks.wall.nowMs() + this.opts.wmTokenLifeMs);
    return { time, newsalt };
  }

  wmTokenValid(token: string): boolean {
    return this.liveTokens().has(token);
  }

  /** Ground truth now. */
  truth(): MinerTruth {
    const t = this.readTrue();
    const wall = this.clocks.wall.nowMs();
    return {
      index: this.index,
      ip: this.ip,
      firmware: this.profile.id,
      model: this.model.id,
      modelName: this.model.name,
      state: t.state,
      powerW: t.powerW,
      hashrateThs: t.hashrateThs,
      targetPowerW: t.targetPowerW,
      ratedPowerW: this.model.ratedPowerW,
      minPowerW: this.model.minPowerW,
      maxPowerW: this.model.maxPowerW,
      sleepCommanded: this.sleepCommanded,
      chipTempC: t.chipTempC,
      fanRpm: t.fanRpm,
      listening: this.listening,
      faults: this.faults.list(wall).map((f: ActiveFault) => ({
        kind: f.kind,
        remaining: Number.isFinite(f.remaining) ? f.remaining : null,
        untilWallMs: Number.isFinite(f.untilWallMs) ? f.untilWallMs : null,
      })),
      requests: this.requests,
      writes: this.writes,
      lastWrite: this.lastWrite,
    };
  }
}
