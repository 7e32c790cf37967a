/**
 * The tenant's power manager, simulated: feed-level load targets in the shape of NVIDIA DPS NvGrid
 * (see ../../ai/feed-target.ts for the wire), bearer-token auth. A target in effect on a feed is
 * met by capping the feed's GPU servers evenly (never below their minimum cap: a feed's minimum is
 * the sum of those); the default constraint is no cap.
 */
import { Hono } from 'hono';
import type { Clock } from '../../../core/time.js';
import { loadTargetRequestSchema, UNIT_W, type LoadTarget } from '../../ai/feed-target.js';
import type { SimGpuServer } from './server.js';

export class SimPowerManager {
  /** Every accepted target, in arrival order (the latest covering an instant is in effect). */
  private readonly schedule: LoadTarget[] = [];

  constructor(
    private readonly feeds: ReadonlyMap<string, readonly SimGpuServer[]>,
    private readonly wall: Clock,
    readonly token: string,
  ) {}

  private feedRange(tag: string): { minW: number; maxW: number } {
    const servers = this.feeds.get(tag) ?? [];
    return { minW: servers.reduce((a, s) => a + s.spec.minCapW, 0), maxW: servers.reduce((a, s) => a + s.spec.maxW, 0) };
  }

  /** The target in effect on a feed now, W (null: the default, no cap). */
  targetW(tag: string): number | null {
    const now = this.wall.nowMs();
    for (let i = this.schedule.length - 1; i >= 0; i--) {
      const t = this.schedule[i] as LoadTarget;
      const applies = (t.feedTags === undefined || t.feedTags.includes(tag)) && Date.parse(t.startTime) <= now && (t.endTime === undefined || Date.parse(t.endTime) > now);
      if (applies) return t.value === null ? null : t.value * UNIT_W[t.unit];
    }
    return null;
  }

  /** Applies the targets in effect to the servers (call after accepting targets, and on a timer). */
  apply(): void {
    for (const [tag, servers] of this.feeds) {
      const t = this.targetW(tag);
      const r = this.feedRange(tag);
      const per = t === null ? null : Math.max(...servers.map((s) => s.spec.minCapW), Math.min(t, r.maxW) / Math.max(1, servers.length));
      for (const s of servers) if (s.capW() !== per) s.setCap(per === null ? null : Math.min(s.spec.maxW, Math.max(s.spec.minCapW, per)));
    }
  }

  routes(): Hono {
    const app = new Hono();
    app.use('*', async (c, next) => {
      if (c.req.header('authorization') !== `Bearer ${this.token}`) return c.json({ error: 'unauthorised' }, 401);
      await next();
      return undefined;
    });
    app.get('/nvgrid/v1/metadata', (c) => c.json({ feeds: [...this.feeds.keys()].map((tag) => ({ feedTag: tag, ...renameRange(this.feedRange(tag)), defaultPowerW: this.feedRange(tag).maxW })) }));
    app.get('/nvgrid/v1/status', (c) =>
      c.json({ feeds: [...this.feeds.entries()].map(([tag, servers]) => ({ feedTag: tag, targetW: this.targetW(tag), consumptionW: servers.reduce((a, s) => a + s.powerW(), 0) })) }),
    );
    app.get('/nvgrid/v1/current', (c) => c.json({ feeds: [...this.feeds.keys()].map((tag) => ({ feedTag: tag, targetW: this.targetW(tag) })) }));
    app.get('/nvgrid/v1/schedule', (c) => {
      const from = Date.parse(c.req.query('startTime') ?? '') || -Infinity;
      const to = Date.parse(c.req.query('endTime') ?? '') || Infinity;
      return c.json({ targets: this.schedule.filter((t) => Date.parse(t.startTime) < to && (t.endTime === undefined || Date.parse(t.endTime) > from)) });
    });
    app.post('/nvgrid/v1/load-targets', async (c) => {
      const p = loadTargetRequestSchema.safeParse(await c.req.json().catch(() => null));
      if (!p.success) return c.json({ error: p.error.issues[0]?.message ?? 'invalid' }, 400);
      for (const t of p.data.targets) {
        for (const tag of t.feedTags ?? []) if (!this.feeds.has(tag)) return c.json({ error: `no feed '${tag}'` }, 404);
        if (t.value !== null) {
          const w = t.value * UNIT_W[t.unit];
          for (const tag of t.feedTags ?? [...this.feeds.keys()]) {
            const r = this.feedRange(tag);
            if (w < r.minW || w > r.maxW) return c.json({ error: `target ${w} W outside feed ${tag}'s ${r.minW}–${r.maxW} W` }, 400);
          }
        }
      }
      this.schedule.push(...p.data.targets);
      this.apply();
      return c.json({ accepted: p.data.targets.length });
    });
    return app;
  }
}

function renameRange(r: { minW: number; maxW: number }): { minPowerW: number; maxPowerW: number } {
  return { minPowerW: r.minW, maxPowerW: r.maxW };
}
