/**
 * Grid services intake and tracking: deployments and awards by id (idempotent across restarts,
 * serialised through the store), the limits they put on mining each tick, the response measured at
 * every decision round, deadlines judged (a miss is a `grid.deployment.missed` event with its
 * penalty), ends and recalls, and the award floor watched (an alert when it cannot be held). The
 * rules are pure (`grid.ts`); this file keeps the records and talks to the store.
 */
import { MulletError } from '../../core/errors.js';
import type { AgentEventInput } from './events.js';
import type { AgentMetrics } from './metrics.js';
import {
  awardActive,
  evidenceRow,
  finish,
  floorMW,
  gridLimits,
  heldHours,
  judge,
  newAward,
  newDeployment,
  observe,
  type AwardRecord,
  type AwardRequest,
  type DeploymentRecord,
  type DeploymentRequest,
  type EvidenceRow,
} from './grid.js';
import type { AgentStateStore } from './state-port.js';
import type { Decision, MiningLimit } from './types.js';

export interface GridDeskDeps {
  store: AgentStateStore;
  event: (e: AgentEventInput) => void;
  log: (line: string) => void;
  /** False once the agent is hard-stopped: nothing more is written. */
  writable: () => boolean;
  /** Charged per MWh a deployment falls short, USD/MWh (the site's `ancillary.penaltyUsdPerMWh`). */
  penaltyUsdPerMWh: number;
  metrics?: Pick<AgentMetrics, 'gridFloorMW' | 'gridDeployments' | 'gridPenaltyUsd' | 'gridResponseSeconds'>;
}

/** Mining MW that is consuming and could be curtailed: machines mining, tuning or waking (not asleep, failed, unreachable or unknown). */
function awakeMW(d: Decision): number {
  return d.byStateMW.mining + d.byStateMW.tuning + d.byStateMW.waking;
}

/** Below the floor by less than this is one machine that does not fit whole, not a broken floor, MW. */
const FLOOR_TOLERANCE_MW = 0.01;

export class GridDesk {
  private chain: Promise<unknown> = Promise.resolve();
  /** Scheduled and active deployments (every tick asks). */
  private open: DeploymentRecord[];
  /** Awards not over yet. */
  private awards: AwardRecord[];
  private readonly dirty = new Map<string, DeploymentRecord>();
  private floorUnheld: string | null = null;

  private constructor(
    private readonly d: GridDeskDeps,
    open: DeploymentRecord[],
    awards: AwardRecord[],
  ) {
    this.open = open;
    this.awards = awards;
  }

  /** Loads the unfinished deployments and live awards; awards from the config file are recorded (they win over an earlier copy). */
  static async create(d: GridDeskDeps, configAwards: readonly AwardRequest[], nowMs: number): Promise<GridDesk> {
    const fromConfig = configAwards.map((a) => newAward(a, 'config'));
    if (fromConfig.length > 0 && d.writable()) await d.store.saveGrid([], fromConfig);
    const [open, awards] = await Promise.all([d.store.deployments({ unfinished: true }), d.store.awards(nowMs)]);
    return new GridDesk(d, open, awards);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private active(): DeploymentRecord[] {
    return this.open.filter((x) => x.state === 'active');
  }

  /** The mining floor now, MW. */
  floorMW(nowMs: number): number {
    return floorMW(this.awards, this.active(), nowMs);
  }

  receive(req: DeploymentRequest, source: string, nowMs: number): Promise<{ record: DeploymentRecord; duplicate: boolean }> {
    return this.serial(async () => {
      const fresh = newDeployment(req, source, nowMs);
      const existing = this.open.find((x) => x.id === req.id) ?? (await this.d.store.getDeployment(req.id));
      if (existing) {
        if (existing.request !== fresh.request) throw new MulletError('CONFLICT', `deployment id '${req.id}' was already used for ${existing.product} ${existing.mw} MW (${existing.request}); use a new id`, { where: 'id' });
        return { record: existing, duplicate: true };
      }
      const award = this.awards.find((a) => a.product === req.product && awardActive(a, fresh.startMs));
      const record = { ...fresh, awardId: award?.id ?? null };
      if (this.d.writable()) await this.d.store.saveGrid([record]);
      this.open.push(record);
      this.d.event({ type: 'grid.deployment', phase: 'received', deployment: evidenceRow(record) });
      this.d.log(`grid deployment ${record.id}: ${record.product} ${record.mw} MW from ${new Date(record.startMs).toISOString()}, deadline ${new Date(record.deadlineMs).toISOString()}${record.awardId ? ` (award ${record.awardId})` : ' (no active award for it)'} (${source})`);
      return { record, duplicate: false };
    });
  }

  recall(id: string, source: string, nowMs: number): Promise<{ record: DeploymentRecord; duplicate: boolean }> {
    return this.serial(async () => {
      const open = this.open.find((x) => x.id === id);
      if (!open) {
        const done = await this.d.store.getDeployment(id);
        if (!done) throw new MulletError('NOT_FOUND', `no deployment with id '${id}'`, { where: 'id' });
        return { record: done, duplicate: true };
      }
      const record = finish(open, nowMs, 'recalled', this.d.penaltyUsdPerMWh);
      this.counted(open, record);
      this.open = this.open.filter((x) => x.id !== id);
      if (this.d.writable()) await this.d.store.saveGrid([record]);
      this.dirty.delete(id);
      this.d.event({ type: 'grid.deployment', phase: 'recalled', deployment: evidenceRow(record) });
      this.d.log(`grid deployment ${id} recalled (${source}): ${record.result}; mining comes back in paced batches`);
      return { record, duplicate: false };
    });
  }

  setAward(req: AwardRequest, source: string): Promise<{ record: AwardRecord; duplicate: boolean }> {
    return this.serial(async () => {
      const record = newAward(req, source);
      const existing = this.awards.find((a) => a.id === req.id) ?? (await this.d.store.awards()).find((a) => a.id === req.id);
      if (existing) {
        if (existing.request !== record.request) throw new MulletError('CONFLICT', `award id '${req.id}' was already used for ${existing.product} ${existing.mw} MW; use a new id`, { where: 'id' });
        return { record: existing, duplicate: true };
      }
      if (this.d.writable()) await this.d.store.saveGrid([], [record]);
      this.awards.push(record);
      this.d.log(`grid award ${record.id}: ${record.product} ${record.mw} MW ${new Date(record.fromMs).toISOString()} → ${new Date(record.toMs).toISOString()} (${source})`);
      return { record, duplicate: false };
    });
  }

  get(id: string): Promise<DeploymentRecord | undefined> {
    const open = this.open.find((x) => x.id === id);
    return open ? Promise.resolve({ ...open }) : this.d.store.getDeployment(id);
  }

  async state(nowMs: number, limit: number): Promise<{ floorMW: number; awards: AwardRecord[]; deployments: DeploymentRecord[] }> {
    const stored = await this.d.store.deployments();
    const byId = new Map(stored.map((x) => [x.id, x]));
    for (const x of this.open) byId.set(x.id, x);
    const deployments = [...byId.values()].sort((a, b) => b.startMs - a.startMs || (a.id < b.id ? 1 : -1)).slice(0, limit);
    return { floorMW: this.floorMW(nowMs), awards: this.awards.filter((a) => a.toMs > nowMs), deployments };
  }

  async evidence(opts: { fromMs?: number; toMs?: number }): Promise<EvidenceRow[]> {
    const stored = await this.d.store.deployments(opts);
    const open = new Map(this.open.map((x) => [x.id, x]));
    return stored.map((x) => evidenceRow(open.get(x.id) ?? x));
  }

  /** For /v1/status: the floor, the awards in force and the open deployments (in memory: status is synchronous). */
  summary(nowMs: number): { floorMW: number; awardsActive: number; open: EvidenceRow[] } {
    return { floorMW: this.floorMW(nowMs), awardsActive: this.awards.filter((a) => awardActive(a, nowMs)).length, open: this.open.map(evidenceRow) };
  }

  /** When the grid next needs a tick: a start, a deadline to judge, an end, UTC ms; undefined when none. */
  nextChangeAtMs(): number | undefined {
    let next = Infinity;
    for (const x of this.open) {
      if (x.state === 'scheduled') next = Math.min(next, x.startMs);
      else {
        if (x.result === 'pending') next = Math.min(next, x.deadlineMs);
        if (x.endMs !== null) next = Math.min(next, x.endMs);
      }
    }
    return Number.isFinite(next) ? next : undefined;
  }

  /**
   * At the start of a tick: starts deployments whose start has come (baseline: mining MW and the
   * meter now, or the chain's when others are active), ends those whose end has come, and returns
   * the named limits for decide(). `safeMode`: the target is stale (the floor waits).
   */
  limits(nowMs: number, now: { miningMW: number; siteMW: number | null; safeMode: boolean; floorPadMW: number }): MiningLimit[] {
    for (let i = 0; i < this.open.length; i++) {
      const x = this.open[i] as DeploymentRecord;
      if (x.state !== 'scheduled' || x.startMs > nowMs) continue;
      const chain = this.active();
      const first = chain[0];
      const started: DeploymentRecord = first
        ? { ...x, state: 'active', baselineMW: first.baselineMW, baselineSiteMW: first.baselineSiteMW, measuredBy: first.measuredBy, priorMW: chain.reduce((s, c) => s + c.mw, 0) }
        : { ...x, state: 'active', baselineMW: now.miningMW, baselineSiteMW: now.siteMW, measuredBy: now.siteMW !== null ? 'meter' : 'reads', priorMW: 0 };
      this.open[i] = started;
      this.dirty.set(x.id, started);
      this.d.event({ type: 'grid.deployment', phase: 'started', deployment: evidenceRow(started) });
    }
    for (const x of this.open.filter((o) => o.state === 'active' && o.endMs !== null && o.endMs <= nowMs)) this.end(x, nowMs);
    return gridLimits(this.awards, this.active(), nowMs, { safeMode: now.safeMode, floorPadMW: now.floorPadMW });
  }

  private end(x: DeploymentRecord, nowMs: number): void {
    const before = this.judgeOne(x, nowMs);
    const record = finish(before, nowMs, 'completed', this.d.penaltyUsdPerMWh);
    this.counted(before, record);
    this.open = this.open.filter((o) => o.id !== x.id);
    this.dirty.set(x.id, record);
    this.d.event({ type: 'grid.deployment', phase: 'completed', deployment: evidenceRow(record) });
    this.d.log(`grid deployment ${x.id} completed: ${record.result}; mining comes back in paced batches`);
  }

  /** One measurement per decision round: the load now (mining MW from reads; the meter when it read). */
  observe(nowMs: number, miningMW: number, siteMW: number | null): void {
    for (let i = 0; i < this.open.length; i++) {
      const x = this.open[i] as DeploymentRecord;
      if (x.state !== 'active') continue;
      const y = observe(x, nowMs, { miningMW, siteMW });
      if (y === x) continue;
      this.open[i] = y;
      this.dirty.set(y.id, y);
      if (x.t95AtMs === null && y.t95AtMs !== null) this.d.event({ type: 'grid.deployment', phase: 'reached-95', deployment: evidenceRow(y) });
      if (x.t100AtMs === null && y.t100AtMs !== null) {
        this.d.metrics?.gridResponseSeconds.observe((y.t100AtMs - y.startMs) / 1000, { product: y.product });
        this.d.event({ type: 'grid.deployment', phase: 'reached-100', deployment: evidenceRow(y) });
        this.d.log(`grid deployment ${y.id}: ${y.mw} MW reduced ${((y.t100AtMs - y.startMs) / 1000).toFixed(1)} s after its start (${y.measuredBy ?? 'reads'})`);
      }
    }
  }

  /** Commands went out in a round: the start of the response of every active deployment not yet at 100 %. */
  noteCommands(nowMs: number): void {
    for (let i = 0; i < this.open.length; i++) {
      const x = this.open[i] as DeploymentRecord;
      if (x.state !== 'active' || x.firstCommandAtMs !== null || x.t100AtMs !== null) continue;
      this.open[i] = { ...x, firstCommandAtMs: nowMs };
      this.dirty.set(x.id, this.open[i] as DeploymentRecord);
    }
  }

  private judgeOne(x: DeploymentRecord, nowMs: number): DeploymentRecord {
    const y = judge(x, nowMs, this.d.penaltyUsdPerMWh);
    if (y === x) return x;
    this.count(y);
    if (y.result === 'met') this.d.event({ type: 'grid.deployment', phase: 'met', deployment: evidenceRow(y) });
    else if (y.result === 'missed') {
      const shortfallMW = Math.max(0, y.mw - Math.max(0, y.deliveredMW ?? 0));
      this.d.event({
        type: 'grid.deployment.missed',
        id: y.id,
        product: y.product,
        mwRequested: y.mw,
        mwDelivered: y.deliveredMW,
        shortfallMW,
        deadlineAt: new Date(y.deadlineMs).toISOString(),
        hours: heldHours(y),
        penaltyUsdPerMWh: this.d.penaltyUsdPerMWh,
        penaltyUsd: y.penaltyUsd,
      });
      this.d.log(`grid deployment ${y.id} MISSED its deadline: ${(y.deliveredMW ?? 0).toFixed(3)} of ${y.mw} MW reduced; penalty ${y.penaltyUsd.toFixed(2)} USD`);
    }
    return y;
  }

  /**
   * After a tick: judges deadlines that have passed, watches the award floor (an alert when it
   * cannot be held, once per episode) and persists what changed.
   */
  async settle(nowMs: number, d: Decision, safeMode: boolean): Promise<void> {
    for (let i = 0; i < this.open.length; i++) {
      const x = this.open[i] as DeploymentRecord;
      if (x.state !== 'active') continue;
      const y = this.judgeOne(x, nowMs);
      if (y !== x) {
        this.open[i] = y;
        this.dirty.set(y.id, y);
      }
    }
    this.awards = this.awards.filter((a) => a.toMs > nowMs);
    this.watchFloor(nowMs, d, safeMode);
    if (this.dirty.size > 0 && this.d.writable()) {
      const rows = [...this.dirty.values()];
      this.dirty.clear();
      await this.d.store.saveGrid(rows);
    }
  }

  /** A deployment's result is known: counted once, with the penalty of a miss (settled again at recall: the difference is added then). */
  private count(y: DeploymentRecord): void {
    if (y.result === 'pending') return;
    this.d.metrics?.gridDeployments.inc({ product: y.product, result: y.result });
    if (y.penaltyUsd > 0) this.d.metrics?.gridPenaltyUsd.inc({ product: y.product }, y.penaltyUsd);
  }

  /** After an end or recall: a result first known now is counted; a miss settled on the hours held adds the difference. */
  private counted(before: DeploymentRecord, after: DeploymentRecord): void {
    if (before.result === 'pending') this.count(after);
    else if (after.penaltyUsd > before.penaltyUsd) this.d.metrics?.gridPenaltyUsd.inc({ product: after.product }, after.penaltyUsd - before.penaltyUsd);
  }

  private watchFloor(nowMs: number, d: Decision, safeMode: boolean): void {
    const floor = this.floorMW(nowMs);
    this.d.metrics?.gridFloorMW.set(floor);
    let why: string | null = null;
    if (floor > 0) {
      const settled = d.commands.length === 0 && d.pending === 0 && d.restoreDeferred === 0;
      if (safeMode) why = `safe mode (${d.safeMode?.reason ?? 'target stale'}): the ${floor.toFixed(3)} MW award floor is not enforced until the plan or feed is back`;
      else if (d.allowedMiningMW < floor - 1e-6) why = `the import limit allows ${d.allowedMiningMW.toFixed(3)} MW of mining, below the ${floor.toFixed(3)} MW award floor (the import limit wins)`;
      else if (settled && awakeMW(d) < floor - FLOOR_TOLERANCE_MW) why = `only ${awakeMW(d).toFixed(3)} MW of mining is running, below the ${floor.toFixed(3)} MW award floor (failed or unreachable miners, or the import limit)`;
    }
    if (why !== null && this.floorUnheld === null) this.d.event({ type: 'alert', kind: 'award-floor-unheld', detail: why });
    if (why === null && this.floorUnheld !== null) this.d.log(`award floor held again (${floor.toFixed(3)} MW)`);
    this.floorUnheld = why;
  }
}
