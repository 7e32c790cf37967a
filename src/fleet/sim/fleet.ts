import { softFdLimit } from '../../core/fd-limit.js';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { MulletError } from '../../core/errors.js';
import { normalizeMac } from '../identity.js';
import { NODE_FLAGS } from '../../core/node-flags.js';
import { systemClock, type Clock } from '../../core/time.js';
import { allocateAddresses } from './cidr.js';
import { scaledClocks } from './clocks.js';
import type { FaultSpec } from './faults.js';
import { FIRMWARES, FIRMWARE_PROFILES, type FirmwareId } from './firmware.js';
import { SimHost, type HostOptions, type MinerAction, type StateCounts, type TruthFilter } from './host.js';
import { WorkerMessageSchema, type WireSpec, type WorkerInit, type WorkerOp } from './ipc.js';
import type { MinerOptions, MinerSpec, MinerTruth, SimClocks } from './miner.js';
import { assignFleet, type Weighted } from './mix.js';
import type { SimModel } from './models.js';
import { MINER_STATES } from './physics.js';
import { hash32 } from './rng.js';
import { BEHAVIOURS } from './servers/index.js';
import { tsLoaderExecArgv } from './ts-loader.js';

/**
 * The simulated fleet behind `mullet sim`: plans N miners (addresses in order from the CIDR,
 * firmware/model by the mix, per-miner seeds), splits them into groups that fit one process's
 * file-descriptor budget, and serves each group either in this process (when one group is
 * enough) or in forked worker processes. Ground truth, faults and site power are gathered from
 * every group; the control API and the meter sit on top of this.
 */
export interface FleetConfig {
  readonly miners: number;
  readonly cidr: string;
  readonly mix: readonly Weighted<FirmwareId>[];
  readonly models: readonly Weighted<SimModel>[];
  readonly seed: number;
  /** Sim time runs this many times faster than the wall. */
  readonly timeScale: number;
  /** Listening sockets one process may hold (its fd budget minus room for connections). */
  readonly listenersPerProcess: number;
  /** Spread the miners over at least this many worker processes (CPU, not descriptors); default 1. */
  readonly minProcesses?: number;
  /** Firm AI load added to the metered site power, W. */
  readonly aiLoadW: number;
  readonly host: Omit<HostOptions, 'miner'>;
  readonly miner: MinerOptions;
  /** Sim time at start, ms since epoch (default: the wall clock). */
  readonly simEpochMs?: number;
  /** In-process clocks (tests): fake clocks force a single in-process host. */
  readonly clocks?: SimClocks;
}

export interface FleetMinerInfo {
  readonly index: number;
  readonly ip: string;
  readonly firmware: FirmwareId;
  readonly model: string;
  readonly modelName: string;
  readonly ports: { readonly api: number; readonly http?: number };
  /** The MAC a scan reads from this miner (normalised), or null: the inventory id uses it. */
  readonly macAddress: string | null;
}

export interface SitePower {
  /** Everything behind the meter: miners plus firm AI load, W. */
  readonly totalW: number;
  readonly minersW: number;
  readonly aiLoadW: number;
}

/** Descriptors kept free in each process for accepted connections and the runtime. */
export const FD_RESERVE = 4096;

/** Listener budget per process from the soft `ulimit -n` (minus FD_RESERVE; at least 256). */
export function defaultListenersPerProcess(): number {
  return Math.max(256, softFdLimit() - FD_RESERVE);
}

/** Plans the fleet: one spec per miner, in address order. */
export function planFleet(cfg: Pick<FleetConfig, 'miners' | 'cidr' | 'mix' | 'models' | 'seed'>): MinerSpec[] {
  const ips = allocateAddresses(cfg.cidr, cfg.miners);
  const assigned = assignFleet(cfg.miners, cfg.mix, cfg.models, cfg.seed);
  return assigned.map((a, i) => ({ index: i, ip: ips[i] as string, firmware: a.firmware, model: a.model, seed: hash32(cfg.seed, i) }));
}

/** Splits specs, in order, into groups whose listener count fits the budget. */
export function partition(specs: readonly MinerSpec[], listenersPerProcess: number): MinerSpec[][] {
  const groups: MinerSpec[][] = [];
  let cur: MinerSpec[] = [];
  let used = 0;
  for (const s of specs) {
    const need = FIRMWARE_PROFILES[s.firmware].ports.length;
    if (cur.length > 0 && used + need > listenersPerProcess) {
      groups.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(s);
    used += need;
  }
  if (cur.length > 0) groups.push(cur);
  return groups;
}

interface HostHandle {
  truth(ip?: string, filter?: TruthFilter): Promise<MinerTruth[]>;
  power(): Promise<number>;
  counts(): Promise<StateCounts>;
  fault(ip: string, spec: FaultSpec): Promise<boolean>;
  clear(ip: string): Promise<boolean>;
  act(ip: string, action: MinerAction): Promise<boolean>;
  close(): Promise<void>;
}

class LocalHandle implements HostHandle {
  constructor(readonly host: SimHost) {}
  truth(ip?: string, filter?: TruthFilter): Promise<MinerTruth[]> {
    return Promise.resolve(this.host.truth(ip, filter));
  }
  power(): Promise<number> {
    return Promise.resolve(this.host.sitePowerW());
  }
  counts(): Promise<StateCounts> {
    return Promise.resolve(this.host.stateCounts());
  }
  fault(ip: string, spec: FaultSpec): Promise<boolean> {
    return Promise.resolve(this.host.addFault(ip, spec));
  }
  clear(ip: string): Promise<boolean> {
    return Promise.resolve(this.host.clearFaults(ip));
  }
  act(ip: string, action: MinerAction): Promise<boolean> {
    return Promise.resolve(this.host.act(ip, action));
  }
  close(): Promise<void> {
    return this.host.close();
  }
}

const TruthListSchema = z.array(
  z.object({
    index: z.number(),
    ip: z.string(),
    firmware: z.enum(FIRMWARES),
    model: z.string(),
    modelName: z.string(),
    state: z.enum(MINER_STATES),
    powerW: z.number(),
    hashrateThs: z.number(),
    targetPowerW: z.number(),
    ratedPowerW: z.number(),
    minPowerW: z.number(),
    maxPowerW: z.number(),
    sleepCommanded: z.boolean(),
    chipTempC: z.number(),
    fanRpm: z.number(),
    listening: z.boolean(),
    faults: z.array(z.object({ kind: z.string(), remaining: z.number().nullable(), untilWallMs: z.number().nullable() })),
    requests: z.number(),
    writes: z.number(),
    lastWrite: z.object({ command: z.string(), wallMs: z.number() }).nullable(),
  }),
);
const CountsSchema = z.record(z.enum(MINER_STATES), z.number());

/** The worker entry: compiled JS when running from dist/, else the .ts source through the loader. */
function workerEntry(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(js)) return { file: js, execArgv: [...NODE_FLAGS] };
  return { file: fileURLToPath(new URL('./worker.ts', import.meta.url)), execArgv: [...NODE_FLAGS, ...tsLoaderExecArgv()] };
}

class RemoteHandle implements HostHandle {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (raw: unknown) => {
      const parsed = WorkerMessageSchema.safeParse(raw);
      if (!parsed.success || parsed.data.t !== 'res') return;
      const msg = parsed.data;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new MulletError('INTERNAL', `sim worker: ${msg.error ?? 'failed'}`));
    });
    child.once('exit', (code) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new MulletError('INTERNAL', `sim worker exited (code ${code ?? 'signal'})`));
      this.pending.clear();
    });
  }

  /** Forks a worker, hands it its miners and waits until they all listen. */
  static start(init: WorkerInit, onProgress: (bound: number) => void): Promise<RemoteHandle> {
    const entry = workerEntry();
    const child = fork(entry.file, [], { execArgv: entry.execArgv, serialization: 'json', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const handle = new RemoteHandle(child);
    return new Promise((resolve, reject) => {
      const onMessage = (raw: unknown): void => {
        const parsed = WorkerMessageSchema.safeParse(raw);
        if (!parsed.success) return;
        const msg = parsed.data;
        if (msg.t === 'progress') onProgress(msg.bound);
        else if (msg.t === 'ready') {
          cleanup();
          resolve(handle);
        } else if (msg.t === 'error') {
          cleanup();
          child.kill();
          reject(new MulletError('IO', `sim worker failed to start: ${msg.message}`));
        }
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new MulletError('IO', `sim worker exited during start-up (code ${code ?? 'signal'})`));
      };
      const cleanup = (): void => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send(init);
    });
  }

  private request(op: WorkerOp): Promise<unknown> {
    if (this.exited) return Promise.reject(new MulletError('INTERNAL', 'sim worker is gone'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ t: 'req', id, op });
    });
  }

  async truth(ip?: string, filter?: TruthFilter): Promise<MinerTruth[]> {
    const f = filter && Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined));
    return TruthListSchema.parse(await this.request({ kind: 'truth', ...(ip === undefined ? {} : { ip }), ...(f ? { filter: f } : {}) }));
  }
  async power(): Promise<number> {
    return z.number().parse(await this.request({ kind: 'power' }));
  }
  async counts(): Promise<StateCounts> {
    return CountsSchema.parse(await this.request({ kind: 'counts' }));
  }
  async fault(ip: string, spec: FaultSpec): Promise<boolean> {
    return z.boolean().parse(await this.request({ kind: 'fault', ip, spec }));
  }
  async clear(ip: string): Promise<boolean> {
    return z.boolean().parse(await this.request({ kind: 'clear', ip }));
  }
  async act(ip: string, action: MinerAction): Promise<boolean> {
    return z.boolean().parse(await this.request({ kind: 'act', ip, action }));
  }
  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      await Promise.race([this.request({ kind: 'close' }), new Promise((r) => setTimeout(r, 10_000))]);
    } catch {
      // Exiting anyway.
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

export class SimFleet {
  private readonly byIp = new Map<string, HostHandle>();
  private closed = false;

  private constructor(
    readonly miners: readonly FleetMinerInfo[],
    private readonly handles: readonly HostHandle[],
    owners: readonly number[],
    /** Worker processes (0 when everything runs in this process). */
    readonly workers: number,
    /** From start() to every listener bound, wall ms. */
    readonly startupMs: number,
    readonly listeners: number,
    readonly clocks: SimClocks,
    public aiLoadW: number,
  ) {
    miners.forEach((m, i) => this.byIp.set(m.ip, handles[owners[i] as number] as HostHandle));
  }

  /** Plans and binds the fleet; `onProgress(bound, total)` reports listeners coming up. */
  static async start(cfg: FleetConfig, onProgress?: (bound: number, total: number) => void, wall: Clock = systemClock): Promise<SimFleet> {
    const t0 = wall.nowMs();
    const specs = planFleet(cfg);
    const wanted = Math.max(1, Math.floor(cfg.minProcesses ?? 1));
    // +1: groups close before a two-listener miner would overflow them, so each may fall one short.
    const budget = wanted > 1 ? Math.min(cfg.listenersPerProcess, Math.ceil(SimHost.listenerCount(specs) / wanted) + 1) : cfg.listenersPerProcess;
    const groups = cfg.clocks ? [specs] : partition(specs, budget);
    const simEpochMs = cfg.simEpochMs ?? wall.nowMs();
    const wallEpochMs = wall.nowMs();
    const clocks = cfg.clocks ?? scaledClocks(simEpochMs, wallEpochMs, cfg.timeScale, wall);
    const total = specs.length;
    const bound = new Array<number>(groups.length).fill(0);
    const report = (g: number, n: number): void => {
      bound[g] = n;
      onProgress?.(
        bound.reduce((a, b) => a + b, 0),
        total,
      );
    };
    const handles: HostHandle[] = [];
    try {
      if (groups.length === 1) {
        const host = new SimHost(specs, clocks, { ...cfg.host, miner: cfg.miner });
        handles.push(new LocalHandle(host));
        await host.start((n) => report(0, n));
      } else {
        const started = await Promise.allSettled(
          groups.map((group, g) =>
            RemoteHandle.start(
              {
                t: 'init',
                specs: group.map((s): WireSpec => ({ index: s.index, ip: s.ip, firmware: s.firmware, model: s.model.id, seed: s.seed })),
                clock: { simEpochMs, wallEpochMs, timeScale: cfg.timeScale },
                host: {
                  ports: { api: cfg.host.ports.api, http: cfg.host.ports.http },
                  backlog: cfg.host.backlog,
                  holdMs: cfg.host.holdMs,
                  idleMs: cfg.host.idleMs,
                  partialRequestMs: cfg.host.partialRequestMs,
                  maintainEveryMs: cfg.host.maintainEveryMs,
                },
                miner: { ...cfg.miner },
              },
              (n) => report(g, n),
            ),
          ),
        );
        for (const r of started) if (r.status === 'fulfilled') handles.push(r.value);
        const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
    } catch (err) {
      await Promise.all(handles.map((h) => h.close()));
      throw err;
    }
    const owners: number[] = [];
    groups.forEach((g, i) => g.forEach(() => owners.push(i)));
    const miners = specs.map((s): FleetMinerInfo => {
      const web = FIRMWARE_PROFILES[s.firmware].ports.includes('http');
      return {
        index: s.index,
        ip: s.ip,
        firmware: s.firmware,
        model: s.model.id,
        modelName: s.model.name,
        ports: web ? { api: cfg.host.ports.api, http: cfg.host.ports.http } : { api: cfg.host.ports.api },
        macAddress: normalizeMac(BEHAVIOURS[s.firmware].reportedMac?.(s.seed, web) ?? null),
      };
    });
    return new SimFleet(miners, handles, owners, groups.length === 1 ? 0 : groups.length, wall.nowMs() - t0, SimHost.listenerCount(specs), clocks, cfg.aiLoadW);
  }

  /** Ground truth of one miner, or all matching `filter` (in address order). */
  async truth(ip?: string, filter?: TruthFilter): Promise<MinerTruth[]> {
    if (ip !== undefined) return (await this.byIp.get(ip)?.truth(ip)) ?? [];
    const parts = await Promise.all(this.handles.map((h) => h.truth(undefined, filter)));
    return parts.flat();
  }

  /** Metered site power now: miners plus the firm AI load, W. */
  async sitePower(): Promise<SitePower> {
    const parts = await Promise.all(this.handles.map((h) => h.power()));
    const minersW = parts.reduce((a, b) => a + b, 0);
    return { totalW: minersW + this.aiLoadW, minersW, aiLoadW: this.aiLoadW };
  }

  async stateCounts(): Promise<StateCounts> {
    const parts = await Promise.all(this.handles.map((h) => h.counts()));
    const out = Object.fromEntries(MINER_STATES.map((s) => [s, 0])) as StateCounts;
    for (const p of parts) for (const s of MINER_STATES) out[s] += p[s];
    return out;
  }

  has(ip: string): boolean {
    return this.byIp.has(ip);
  }

  async addFault(ip: string, spec: FaultSpec): Promise<boolean> {
    return (await this.byIp.get(ip)?.fault(ip, spec)) ?? false;
  }

  async clearFaults(ip: string): Promise<boolean> {
    return (await this.byIp.get(ip)?.clear(ip)) ?? false;
  }

  async act(ip: string, action: MinerAction): Promise<boolean> {
    return (await this.byIp.get(ip)?.act(ip, action)) ?? false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.handles.map((h) => h.close()));
  }
}

