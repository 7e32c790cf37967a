/**
 * A feed-level load target sent to the tenant's power manager, in the shape of NVIDIA Domain Power
 * Service's NvGrid API (SetLoadTarget / GetLoadSchedule / GetCurrentLoadTarget / GetMetadata),
 * carried as JSON over HTTP with a bearer token:
 *   GET  /nvgrid/v1/metadata   {"feeds":[{"feedTag":"feed-a","minPowerW":2.0e6,"maxPowerW":6.0e6,"defaultPowerW":6.0e6}]}
 *   GET  /nvgrid/v1/status     {"feeds":[{"feedTag":"feed-a","targetW":4.5e6,"consumptionW":4.47e6}]}
 *   GET  /nvgrid/v1/current    {"feeds":[{"feedTag":"feed-a","target":{…}|null}]}
 *   GET  /nvgrid/v1/schedule?startTime=&endTime=   {"targets":[…]}
 *   POST /nvgrid/v1/load-targets {"targets":[{"feedTags":["feed-a"],"startTime":"…Z","endTime"?:"…Z",
 *                                  "value":4.5,"unit":"megawatt","correlationId":"…","bestEffort":true}]}
 * As in NvGrid, `value: null` resets the feed to its default, a target without `endTime` holds until
 * the next one, and the latest target covering an instant is the one in effect. One feed is one
 * AiPowerControl device. The server side lives in the simulator (`../sim/gpu/power-manager.ts`).
 */
import { z } from 'zod';
import { badInput, MulletError } from '../../core/errors.js';
import { createHttpClient, type HttpClient, type HttpMethod } from '../../net/http-client.js';
import type { CallOptions } from '../protocols/call.js';
import type { AiPowerControl, PowerLimitRangeW } from './control.js';

export const loadTargetSchema = z.strictObject({
  feedTags: z.array(z.string().min(1)).min(1).optional(),
  startTime: z.iso.datetime({ offset: true }),
  endTime: z.iso.datetime({ offset: true }).optional(),
  value: z.number().finite().min(0).nullable(),
  unit: z.enum(['watt', 'kilowatt', 'megawatt']),
  correlationId: z.string().max(128).optional(),
  bestEffort: z.boolean().optional(),
});
export type LoadTarget = z.infer<typeof loadTargetSchema>;
export const loadTargetRequestSchema = z.strictObject({ targets: z.array(loadTargetSchema).min(1).max(1000) });
export const feedMetadataSchema = z.object({ feeds: z.array(z.object({ feedTag: z.string(), minPowerW: z.number(), maxPowerW: z.number(), defaultPowerW: z.number() })) });
export const feedStatusSchema = z.object({ feeds: z.array(z.object({ feedTag: z.string(), targetW: z.number().nullable(), consumptionW: z.number() })) });

export const UNIT_W = { watt: 1, kilowatt: 1e3, megawatt: 1e6 } as const;

export interface FeedTargetConfig {
  id: string;
  baseUrl: string;
  feedTag: string;
  token: string;
  timeoutMs?: number;
  /** Clock for the targets' start times, UTC ms. */
  nowMs: () => number;
}

const defaultClient = createHttpClient({ retry: { attempts: 1 }, maxBytes: 1024 * 1024, userAgent: 'mullet-agent' });

export class FeedTarget implements AiPowerControl {
  readonly id: string;
  private range: PowerLimitRangeW | null = null;

  constructor(
    private readonly c: FeedTargetConfig,
    private readonly http: HttpClient = defaultClient,
  ) {
    this.id = c.id;
  }

  private async call(method: HttpMethod, path: string, body: unknown, opts?: CallOptions): Promise<unknown> {
    const url = new URL(path, this.c.baseUrl).toString();
    const r = await this.http.exchangeJson(method, url, body, { timeoutMs: opts?.timeoutMs ?? this.c.timeoutMs ?? 5_000, headers: { authorization: `Bearer ${this.c.token}` }, ...(opts?.signal ? { signal: opts.signal } : {}) });
    if (r.status === 401 || r.status === 403) throw new MulletError('AUTH', `the power manager refused the token (HTTP ${r.status})`, { where: url });
    if (r.status >= 400) throw new MulletError('PROTOCOL', `HTTP ${r.status}`, { where: url, transient: r.status >= 500 });
    return r.body;
  }

  private feed<T extends { feedTag: string }>(feeds: readonly T[]): T {
    const f = feeds.find((x) => x.feedTag === this.c.feedTag);
    if (!f) throw new MulletError('NOT_FOUND', `no feed '${this.c.feedTag}' at the power manager (it has ${feeds.map((x) => x.feedTag).join(', ') || 'none'})`, { where: this.c.baseUrl });
    return f;
  }

  private async status(opts?: CallOptions): Promise<{ targetW: number | null; consumptionW: number }> {
    const p = feedStatusSchema.safeParse(await this.call('GET', '/nvgrid/v1/status', undefined, opts));
    if (!p.success) throw new MulletError('PARSE', `status: ${p.error.issues[0]?.message ?? 'unexpected shape'}`, { where: this.c.baseUrl });
    return this.feed(p.data.feeds);
  }

  async readPowerW(opts?: CallOptions): Promise<number> {
    return (await this.status(opts)).consumptionW;
  }

  async readPowerLimitW(opts?: CallOptions): Promise<number | null> {
    return (await this.status(opts)).targetW;
  }

  async limitRangeW(opts?: CallOptions): Promise<PowerLimitRangeW> {
    if (this.range) return this.range;
    const p = feedMetadataSchema.safeParse(await this.call('GET', '/nvgrid/v1/metadata', undefined, opts));
    if (!p.success) throw new MulletError('PARSE', `metadata: ${p.error.issues[0]?.message ?? 'unexpected shape'}`, { where: this.c.baseUrl });
    const f = this.feed(p.data.feeds);
    this.range = { minW: f.minPowerW, maxW: f.maxPowerW };
    return this.range;
  }

  private target(value: number | null): LoadTarget {
    return { feedTags: [this.c.feedTag], startTime: new Date(this.c.nowMs()).toISOString(), value, unit: 'watt', correlationId: `mullet-${this.c.id}-${this.c.nowMs()}`, bestEffort: true };
  }

  async setPowerLimitW(watts: number, opts?: CallOptions): Promise<void> {
    const r = await this.limitRangeW(opts);
    if (!Number.isFinite(watts) || watts < r.minW || watts > r.maxW) throw badInput(`load target ${watts} W is outside feed ${this.c.feedTag}'s range ${r.minW}–${r.maxW} W`, this.c.id);
    await this.call('POST', '/nvgrid/v1/load-targets', { targets: [this.target(Math.round(watts))] }, opts);
  }

  async clearPowerLimit(opts?: CallOptions): Promise<void> {
    await this.call('POST', '/nvgrid/v1/load-targets', { targets: [this.target(null)] }, opts);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
