/**
 * One very large site, split over N shards: each shard is a SiteAgent in a worker thread over a
 * contiguous slice of the inventory (reads and writes of the shards run in parallel); this
 * coordinator owns the site's import limit. Every `tickMs` it allocates mining MW per shard
 * (allocate.ts, pure) from the latest reports and sends each shard its cap; a shard whose reports
 * stop counts at full nameplate. Site signals (curtail --all / --mw, restore) become a site cap on
 * mining the allocator shares out. Messages both ways are parsed with messages.ts.
 */
import { cpus } from 'node:os';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Clock } from '../../core/time.js';
import { NODE_FLAGS } from '../../core/node-flags.js';
import type { Inventory } from '../inventory.js';
import { nameplate } from '../agent/fleet.js';
import { parseSite } from '../../site/parse.js';
import { tsLoaderExecArgv } from '../sim/ts-loader.js';
import { allocate, type Allocation, type ShardReport } from './allocate.js';
import { fromShardSchema, SHARD_PROTOCOL_VERSION, type ShardInit, type ShardReportMsg, type ToShard } from './messages.js';

export interface CoordinatorOptions {
  siteYaml: string;
  siteFile: string;
  inventory: Inventory;
  shards: number;
  importLimitMW: number;
  /** AI at full IT × PUE plus other non-curtailable load, MW at the meter. */
  aiMW: number;
  otherLoadMW?: number;
  marginMW?: number;
  clock: Clock;
  /** Allocation period, ms (default 1000). */
  tickMs?: number;
  /** A shard silent this long counts at nameplate, ms (default 3 × reportEveryMs + tickMs). */
  silentAfterMs?: number;
  /** Shards hold their last cap this long when the coordinator is silent, then curtail all, ms (default 30 s). */
  holdMs?: number;
  /** Shard heartbeat, ms (default 1000). */
  reportEveryMs?: number;
  /** Directory for per-shard SQLite state files; null: in memory. */
  dbDir?: string | null;
  shard?: Partial<Pick<ShardInit, 'tickMs' | 'concurrency' | 'callTimeoutMs' | 'verifyWaitMs' | 'snapshotMaxAgeMs' | 'withMetrics'>> & { decide?: Partial<ShardInit['decide']> };
  log?: (line: string) => void;
}

/** A curtail or restore for the whole site. */
export type SiteSignal = { kind: 'curtail'; all: true } | { kind: 'curtail'; mw: number } | { kind: 'restore' };

interface ShardHandle {
  shardId: string;
  worker: Worker;
  nameplateMW: number;
  initialCapMW: number;
  miners: number;
  last: ShardReportMsg | null;
  receivedAtMs: number;
  exited: boolean;
  error: string | null;
}

export interface ShardLine {
  shardId: string;
  miners: number;
  nameplateMW: number;
  capMW: number | null;
  silent: boolean;
  exited: boolean;
  fallback: boolean;
  currentMiningMW: number | null;
  minMW: number | null;
  minersByState: Record<string, number>;
  lastTickMs: number | null;
  lastFullReadMs: number | null;
  reportAgeMs: number | null;
  error: string | null;
}

export interface SiteShardStatus {
  site: string;
  nowMs: number;
  importLimitMW: number;
  aiMW: number;
  siteMiningCapMW: number | null;
  budgetMW: number | null;
  /** Σ what every shard is counted at (silent at nameplate), MW. */
  countedMiningMW: number | null;
  feasible: boolean | null;
  allocSeq: number;
  minersByState: Record<string, number>;
  shards: ShardLine[];
}

/** The worker entry: compiled JS from dist/, else the .ts source through the loader (tests). */
function workerEntry(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL('./shard-worker.js', import.meta.url));
  if (existsSync(js)) return { file: js, execArgv: [] };
  return { file: fileURLToPath(new URL('./shard-worker.ts', import.meta.url)), execArgv: tsLoaderExecArgv() };
}

/**
 * Workers refuse V8 flags in execArgv; NODE_FLAGS' 64 MB semi-space (young generation = 3 semi-spaces)
 * is given as the worker's young-generation limit instead.
 */
const SEMI_SPACE_MB = Number(/--max-semi-space-size=(\d+)/.exec(NODE_FLAGS.join(' '))?.[1] ?? 16);
const WORKER_LIMITS = { maxYoungGenerationSizeMb: SEMI_SPACE_MB * 3 };

/** Contiguous slices (a rack's /24 stays in one shard), sizes differing by at most one. */
export function splitInventory(inv: Inventory, n: number): Inventory[] {
  const k = Math.max(1, Math.min(n, inv.miners.length));
  const out: Inventory[] = [];
  let at = 0;
  for (let i = 0; i < k; i++) {
    const size = Math.floor(inv.miners.length / k) + (i < inv.miners.length % k ? 1 : 0);
    out.push({ ...inv, miners: inv.miners.slice(at, at + size) });
    at += size;
  }
  return out;
}

export class ShardCoordinator {
  private readonly shards: ShardHandle[] = [];
  private siteMiningCapMW: number | null = null;
  private allocSeq = 0;
  private last: Allocation | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAtMs: number;
  private readonly waiters = new Set<() => void>();
  private readonly tickMs: number;
  private readonly silentAfterMs: number;
  private readonly startupGraceMs: number;
  readonly siteName: string;

  private constructor(private readonly o: CoordinatorOptions) {
    this.startedAtMs = o.clock.nowMs();
    this.tickMs = o.tickMs ?? 1000;
    this.silentAfterMs = o.silentAfterMs ?? 3 * (o.reportEveryMs ?? 1000) + this.tickMs;
    // A shard's first report follows its start-up read of the whole slice: give it that long.
    this.startupGraceMs = o.holdMs ?? 30_000;
    this.siteName = /^name:\s*(\S+)/m.exec(o.siteYaml)?.[1] ?? 'site';
  }

  /** Starts the shard workers (each reads its slice once, then ticks) and the allocation loop. */
  static start(o: CoordinatorOptions): ShardCoordinator {
    const c = new ShardCoordinator(o);
    c.spawn();
    c.timer = setInterval(() => c.allocateNow(), c.tickMs);
    return c;
  }

  private get budgetMW(): number {
    const b = this.o.importLimitMW - this.o.aiMW - (this.o.otherLoadMW ?? 0) - (this.o.marginMW ?? 0);
    return this.siteMiningCapMW === null ? b : Math.min(b, this.siteMiningCapMW);
  }

  private spawn(): void {
    const slices = splitInventory(this.o.inventory, this.o.shards);
    // Nameplate as the shards' agents count it (inventory, catalog, site fleet; × PUE): a silent shard is counted at this.
    const site = parseSite(this.o.siteYaml, { file: this.o.siteFile });
    const nameplates = slices.map((sl) => sl.miners.reduce((a, m) => { const n = nameplate(m, site); return a + (n.ratedPowerW * n.pue) / 1e6; }, 0));
    const total = nameplates.reduce((a, b) => a + b, 0);
    const entry = workerEntry();
    const s = this.o.shard ?? {};
    slices.forEach((slice, i) => {
      const shardId = `shard-${i}`;
      // Until the first allocation: the shard's nameplate share of the site budget (Σ = budget).
      const initialCapMW = total > 0 ? Math.max(0, (this.budgetMW * (nameplates[i] ?? 0)) / total) : 0;
      const init: ShardInit = {
        v: SHARD_PROTOCOL_VERSION,
        shardId,
        siteYaml: this.o.siteYaml,
        siteFile: this.o.siteFile,
        inventory: slice,
        dbPath: this.o.dbDir ? path.join(this.o.dbDir, `${shardId}.db`) : null,
        initialCapMW,
        holdMs: this.o.holdMs ?? 30_000,
        reportEveryMs: this.o.reportEveryMs ?? 1000,
        tickMs: s.tickMs ?? 10_000,
        concurrency: s.concurrency ?? 512,
        callTimeoutMs: s.callTimeoutMs ?? 5000,
        verifyWaitMs: s.verifyWaitMs ?? 5000,
        snapshotMaxAgeMs: s.snapshotMaxAgeMs ?? 5000,
        decide: { restoreBatchSize: 500, restorePacingMs: 2000, minDwellMs: 60_000, confirmTimeoutMs: 30_000, ...s.decide },
        withMetrics: s.withMetrics ?? false,
      };
      const worker = new Worker(entry.file, { execArgv: entry.execArgv, workerData: init, resourceLimits: WORKER_LIMITS });
      const h: ShardHandle = { shardId, worker, nameplateMW: nameplates[i] ?? 0, initialCapMW, miners: slice.miners.length, last: null, receivedAtMs: -Infinity, exited: false, error: null };
      worker.on('message', (raw: unknown) => this.onMessage(h, raw));
      worker.on('error', (err) => {
        h.error = err.message;
        this.o.log?.(`${shardId}: ${err.message}`);
      });
      worker.on('exit', () => {
        h.exited = true;
        this.notify();
      });
      this.shards.push(h);
    });
    this.o.log?.(`${slices.length} shards over ${this.o.inventory.miners.length} miners (${os()} cores)`);
  }

  private onMessage(h: ShardHandle, raw: unknown): void {
    const m = fromShardSchema.safeParse(raw);
    if (!m.success) {
      this.o.log?.(`${h.shardId}: refused a message: ${m.error.issues[0]?.message ?? 'invalid'}`);
      return;
    }
    const msg = m.data;
    if (msg.shardId !== h.shardId && msg.type !== 'fatal') return;
    switch (msg.type) {
      case 'report':
        h.last = msg;
        // The coordinator's clock, never the shard's: silence is judged on receipt.
        h.receivedAtMs = this.o.clock.nowMs();
        this.notify();
        break;
      case 'log':
        this.o.log?.(`${h.shardId}: ${msg.line}`);
        break;
      case 'fatal':
        h.error = msg.error;
        this.o.log?.(`${h.shardId}: fatal: ${msg.error}`);
        break;
      case 'stopped':
        break;
    }
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private reports(): Map<string, ShardReport> {
    const out = new Map<string, ShardReport>();
    for (const h of this.shards) {
      // Before its first tick a shard knows nothing of its miners: silent, at nameplate.
      if (!h.last || h.exited || h.last.tickSeq === 0) continue;
      out.set(h.shardId, { shardId: h.shardId, reportedAtMs: h.receivedAtMs, currentMiningMW: h.last.currentMiningMW, nameplateMW: h.last.nameplateMW, minMW: h.last.minMW, wantMW: h.last.wantMW });
    }
    return out;
  }

  /** One allocation: caps from the latest reports, sent to every live shard. */
  allocateNow(): Allocation | null {
    const nowMs = this.o.clock.nowMs();
    // Start-up: the shards keep their nameplate share (Σ = budget) until each has read its slice
    // once; it is re-sent every tick so a long first read never runs a shard out of its hold.
    if (this.shards.some((h) => !h.exited && (h.last?.tickSeq ?? 0) === 0) && nowMs - this.startedAtMs < this.startupGraceMs && this.siteMiningCapMW === null) {
      const seq = this.allocSeq++;
      for (const h of this.shards) if (!h.exited) h.worker.postMessage({ v: SHARD_PROTOCOL_VERSION, type: 'cap', seq, capMW: h.initialCapMW } satisfies ToShard);
      return null;
    }
    const a = allocate({
      nowMs,
      importLimitMW: this.o.importLimitMW,
      aiMW: this.o.aiMW,
      otherLoadMW: this.o.otherLoadMW ?? 0,
      marginMW: this.o.marginMW ?? 0,
      siteMiningCapMW: this.siteMiningCapMW,
      silentAfterMs: this.silentAfterMs,
      shards: this.shards.map((h) => ({ shardId: h.shardId, nameplateMW: h.nameplateMW })),
      reports: this.reports(),
    });
    const seq = this.allocSeq++;
    this.last = a;
    for (const s of a.shards) {
      const h = this.shards.find((x) => x.shardId === s.shardId);
      if (!h || h.exited) continue;
      const m: ToShard = { v: SHARD_PROTOCOL_VERSION, type: 'cap', seq, capMW: s.capMW };
      h.worker.postMessage(m);
    }
    return a;
  }

  /** A site signal: the cap on mining it sets (curtail --mw: the site's counted mining less the MW), allocated at once. */
  signal(s: SiteSignal): { siteMiningCapMW: number | null; allocSeq: number } {
    if (s.kind === 'restore') this.siteMiningCapMW = null;
    else if ('all' in s) this.siteMiningCapMW = 0;
    else {
      const mining = this.shards.reduce((a, h) => a + (h.last && !h.exited ? h.last.currentMiningMW : h.nameplateMW), 0);
      this.siteMiningCapMW = Math.max(0, Math.min(this.siteMiningCapMW ?? Infinity, mining - s.mw));
    }
    const allocSeq = this.allocSeq;
    this.allocateNow();
    return { siteMiningCapMW: this.siteMiningCapMW, allocSeq };
  }

  /**
   * Resolves true once every live shard has reported a tick decided under allocation `allocSeq` or
   * later with nothing in flight and mining at or under its cap (curtail --all: every miner read
   * asleep, none unknown, unreachable or failed); false after `timeoutMs`.
   */
  waitSettled(allocSeq: number, timeoutMs: number, all = false): Promise<boolean> {
    const ok = (): boolean =>
      this.shards.every((h) => {
        if (h.exited) return true;
        const r = h.last;
        if (!r || r.capSeq < allocSeq || r.pending > 0) return false;
        // A machine not read (unknown, unreachable) or given up on (failed) is not confirmed asleep.
        if (all) return ['mining', 'waking', 'tuning', 'unknown', 'unreachable', 'failed'].every((k) => (r.minersByState[k] ?? 0) === 0);
        return r.capMW !== null && r.currentMiningMW <= r.capMW + 1e-3;
      });
    if (ok()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (v: boolean): void => {
        clearTimeout(t);
        this.waiters.delete(check);
        resolve(v);
      };
      const check = (): void => {
        if (ok()) done(true);
      };
      const t = setTimeout(() => done(false), timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Resolves once every shard has reported at least once (its start-up read done); false after `timeoutMs`. */
  waitReady(timeoutMs: number): Promise<boolean> {
    const ok = (): boolean => this.shards.every((h) => h.exited || (h.last !== null && h.last.tickSeq > 0));
    if (ok()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!ok()) return;
        clearTimeout(t);
        this.waiters.delete(check);
        resolve(true);
      };
      const t = setTimeout(() => {
        this.waiters.delete(check);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  status(): SiteShardStatus {
    const nowMs = this.o.clock.nowMs();
    const byState: Record<string, number> = {};
    const lines: ShardLine[] = this.shards.map((h) => {
      const a = this.last?.shards.find((s) => s.shardId === h.shardId);
      const silent = h.exited || !h.last || nowMs - h.receivedAtMs > this.silentAfterMs;
      for (const [k, n] of Object.entries(h.last?.minersByState ?? {})) byState[k] = (byState[k] ?? 0) + n;
      return {
        shardId: h.shardId,
        miners: h.miners,
        nameplateMW: h.nameplateMW,
        capMW: a?.capMW ?? h.last?.capMW ?? null,
        silent,
        exited: h.exited,
        fallback: h.last?.fallback ?? false,
        currentMiningMW: h.last?.currentMiningMW ?? null,
        minMW: h.last?.minMW ?? null,
        minersByState: h.last?.minersByState ?? {},
        lastTickMs: h.last?.lastTickMs ?? null,
        lastFullReadMs: h.last?.lastFullReadMs ?? null,
        reportAgeMs: h.last ? nowMs - h.receivedAtMs : null,
        error: h.error,
      };
    });
    return {
      site: this.siteName,
      nowMs,
      importLimitMW: this.o.importLimitMW,
      aiMW: this.o.aiMW,
      siteMiningCapMW: this.siteMiningCapMW,
      budgetMW: this.last?.budgetMW ?? null,
      countedMiningMW: this.last?.countedMW ?? null,
      feasible: this.last?.feasible ?? null,
      allocSeq: this.allocSeq,
      minersByState: byState,
      shards: lines,
    };
  }

  /** Prometheus text: the site totals and one line per shard (plus each shard's own metrics, labelled, when asked for). */
  metricsText(): string {
    const st = this.status();
    const g = (name: string, help: string, rows: [string, number | null][]): string =>
      [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...rows.map(([l, v]) => `${name}${l} ${v === null ? 'NaN' : v}`)].join('\n');
    const lbl = (id: string): string => `{shard="${id}"}`;
    const parts = [
      g('mullet_site_import_limit_mw', 'Site import limit, MW', [['', st.importLimitMW]]),
      g('mullet_shards_budget_mw', 'Mining budget shared over the shards, MW', [['', st.budgetMW]]),
      g('mullet_shards_counted_mining_mw', 'Mining MW every shard is counted at (silent at nameplate)', [['', st.countedMiningMW]]),
      g('mullet_shard_cap_mw', 'Cap allocated to the shard, MW', st.shards.map((s) => [lbl(s.shardId), s.capMW])),
      g('mullet_shard_mining_mw', 'Mining MW the shard counts', st.shards.map((s) => [lbl(s.shardId), s.currentMiningMW])),
      g('mullet_shard_silent', 'Shard silent (counted at nameplate)', st.shards.map((s) => [lbl(s.shardId), s.silent ? 1 : 0])),
      g('mullet_shard_miners', 'Miners of the shard by state', st.shards.flatMap((s) => Object.entries(s.minersByState).map(([k, n]): [string, number] => [`{shard="${s.shardId}",state="${k}"}`, n]))),
    ];
    for (const h of this.shards) {
      const text = h.last?.metricsText;
      if (text) parts.push(text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.replace(/^(\w+)(\{)?/, (_m, n: string, b?: string) => `${n}{shard="${h.shardId}"${b ? ',' : '}'}`)).join('\n'));
    }
    return parts.join('\n') + '\n';
  }

  /** Terminates one shard's worker at once (tests: a shard that dies). */
  async killShard(shardId: string): Promise<void> {
    const h = this.shards.find((x) => x.shardId === shardId);
    if (h) await h.worker.terminate();
  }

  /** Stops the allocation loop, asks every shard to finish its tick and close, then terminates stragglers. */
  async close(timeoutMs = 30_000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(
      this.shards.map(async (h) => {
        if (h.exited) return;
        const exited = new Promise<void>((r) => h.worker.once('exit', () => r()));
        h.worker.postMessage({ v: SHARD_PROTOCOL_VERSION, type: 'stop' } satisfies ToShard);
        const t = setTimeout(() => void h.worker.terminate(), timeoutMs);
        await exited;
        clearTimeout(t);
      }),
    );
  }
}

function os(): number {
  return cpus().length;
}
