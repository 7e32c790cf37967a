/**
 * DMTF Redfish client for a GPU server's BMC: read the power it draws, cap it, clear the cap.
 * Two generations, detected once per BMC:
 *  - Controls (Redfish 2021.2+): `GET /redfish/v1/Chassis/{id}/EnvironmentMetrics` →
 *    `PowerWatts.Reading` (W); the cap is `Chassis/{id}/Controls/PowerLimit` (a Control with
 *    `ControlType: "Power"`): `PATCH {"SetPoint": W, "ControlMode": "Manual"}` within
 *    `AllowableMin`/`AllowableMax`; cleared with `{"ControlMode": "Disabled"}`.
 *  - Legacy Power (Power.v1_x, deprecated but common): `GET /redfish/v1/Chassis/{id}/Power` →
 *    `PowerControl[0].PowerConsumedWatts`; the cap is `PowerControl[0].PowerLimit.LimitInWatts`
 *    (`null` clears it); the range is `PowerControl[0].PowerCapacityWatts` at the top and, as
 *    Power.v1 has no minimum, the inventory's `minPowerW` (else 40 % of capacity: an assumption).
 *
 * Annotated example (Control.v1_3, from the DMTF schema):
 *   { "@odata.id": "/redfish/v1/Chassis/1/Controls/PowerLimit", "ControlType": "Power",
 *     "ControlMode": "Manual", "SetPoint": 7200,  ← W
 *     "SetPointUnits": "W", "AllowableMin": 3000, "AllowableMax": 10200 }
 * Authentication: HTTP Basic per request (the BMC's own accounts); TLS is verified (a BMC with a
 * private CA: give Node its certificate with NODE_EXTRA_CA_CERTS — verification is never disabled).
 */
import { z } from 'zod';
import { badInput, MulletError } from '../../core/errors.js';
import { createHttpClient, type HttpClient, type HttpMethod } from '../../net/http-client.js';
import type { CallOptions } from '../protocols/call.js';
import type { AiPowerControl, PowerLimitRangeW } from './control.js';

export interface RedfishConfig {
  id: string;
  /** BMC base URL, e.g. https://10.1.2.3 (http only on loopback: the simulator). */
  baseUrl: string;
  username: string;
  password: string;
  /** Chassis id; default: the first member of /redfish/v1/Chassis. */
  chassisId?: string;
  /** Lowest cap the device accepts when the BMC does not say (legacy Power), W. */
  minPowerW?: number;
  /** Deadline per call, ms. */
  timeoutMs?: number;
}

const link = z.object({ '@odata.id': z.string() });
const collection = z.object({ Members: z.array(link) });
const chassisSchema = z.object({ EnvironmentMetrics: link.optional(), Controls: link.optional(), Power: link.optional() });
const controlSchema = z.object({
  ControlType: z.string().optional(),
  ControlMode: z.string().optional(),
  SetPoint: z.number().nullable().optional(),
  SetPointUnits: z.string().optional(),
  AllowableMin: z.number().optional(),
  AllowableMax: z.number().optional(),
});
const envSchema = z.object({ PowerWatts: z.object({ Reading: z.number().finite() }) });
const legacySchema = z.object({
  PowerControl: z
    .array(
      z.object({
        PowerConsumedWatts: z.number().finite().nullable().optional(),
        PowerCapacityWatts: z.number().finite().nullable().optional(),
        PowerLimit: z.object({ LimitInWatts: z.number().nullable().optional() }).optional(),
      }),
    )
    .min(1),
});

type Layout = { kind: 'controls'; control: string; env: string } | { kind: 'legacy'; power: string };

/** Shared by every BMC: one attempt per call (the agent retries on its own schedule). */
const defaultClient = createHttpClient({ retry: { attempts: 1 }, maxBytes: 1024 * 1024, userAgent: 'mullet-agent' });

export class RedfishBmc implements AiPowerControl {
  readonly id: string;
  private layout: Layout | null = null;
  private range: PowerLimitRangeW | null = null;
  private readonly auth: string;

  constructor(
    private readonly c: RedfishConfig,
    private readonly http: HttpClient = defaultClient,
  ) {
    this.id = c.id;
    this.auth = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    const u = new URL(c.baseUrl);
    if (u.protocol !== 'https:' && !/^(127\.|localhost$|\[::1\]$)/.test(u.hostname)) {
      throw badInput(`Redfish over plain http is allowed on loopback only (the simulator): use https for ${c.baseUrl}`, `ai: ${c.id}`);
    }
  }

  private async call(method: HttpMethod, path: string, body: unknown, opts?: CallOptions): Promise<unknown> {
    const url = new URL(path, this.c.baseUrl).toString();
    const r = await this.http.exchangeJson(method, url, body, { timeoutMs: opts?.timeoutMs ?? this.c.timeoutMs ?? 5_000, headers: { authorization: this.auth, 'odata-version': '4.0' }, ...(opts?.signal ? { signal: opts.signal } : {}) });
    if (r.status === 401 || r.status === 403) throw new MulletError('AUTH', `BMC refused the credentials (HTTP ${r.status})`, { where: url });
    if (r.status >= 400) throw new MulletError('PROTOCOL', `HTTP ${r.status}${extendedInfo(r.body)}`, { where: url, transient: r.status >= 500 });
    return r.body;
  }

  private parse<T>(schema: z.ZodType<T>, raw: unknown, what: string): T {
    const p = schema.safeParse(raw);
    if (!p.success) throw new MulletError('PARSE', `${what}: ${p.error.issues[0]?.message ?? 'unexpected shape'}`, { where: this.c.baseUrl });
    return p.data;
  }

  /** Finds the chassis and whether it offers Controls (modern) or only Power (legacy); cached. */
  private async discover(opts?: CallOptions): Promise<Layout> {
    if (this.layout) return this.layout;
    let chassis = this.c.chassisId !== undefined ? `/redfish/v1/Chassis/${encodeURIComponent(this.c.chassisId)}` : undefined;
    if (!chassis) {
      const members = this.parse(collection, await this.call('GET', '/redfish/v1/Chassis', undefined, opts), 'Chassis collection').Members;
      chassis = members[0]?.['@odata.id'];
      if (!chassis) throw new MulletError('UNSUPPORTED', 'the BMC lists no chassis', { where: this.c.baseUrl });
    }
    const ch = this.parse(chassisSchema, await this.call('GET', chassis, undefined, opts), 'Chassis');
    if (ch.Controls && ch.EnvironmentMetrics) {
      const controls = this.parse(collection, await this.call('GET', ch.Controls['@odata.id'], undefined, opts), 'Controls collection').Members;
      for (const m of controls) {
        const c = this.parse(controlSchema, await this.call('GET', m['@odata.id'], undefined, opts), 'Control');
        if (c.ControlType === 'Power' && (c.SetPointUnits === undefined || c.SetPointUnits === 'W')) {
          this.layout = { kind: 'controls', control: m['@odata.id'], env: ch.EnvironmentMetrics['@odata.id'] };
          return this.layout;
        }
      }
    }
    if (ch.Power) {
      this.layout = { kind: 'legacy', power: ch.Power['@odata.id'] };
      return this.layout;
    }
    throw new MulletError('UNSUPPORTED', 'the chassis offers neither a Power control nor the legacy Power resource', { where: `${this.c.baseUrl}${chassis}` });
  }

  async readPowerW(opts?: CallOptions): Promise<number> {
    const l = await this.discover(opts);
    if (l.kind === 'controls') return this.parse(envSchema, await this.call('GET', l.env, undefined, opts), 'EnvironmentMetrics').PowerWatts.Reading;
    const w = this.parse(legacySchema, await this.call('GET', l.power, undefined, opts), 'Power').PowerControl[0]?.PowerConsumedWatts;
    if (w === null || w === undefined) throw new MulletError('PARSE', 'PowerConsumedWatts is missing', { where: this.c.baseUrl });
    return w;
  }

  async limitRangeW(opts?: CallOptions): Promise<PowerLimitRangeW> {
    if (this.range) return this.range;
    const l = await this.discover(opts);
    if (l.kind === 'controls') {
      const c = this.parse(controlSchema, await this.call('GET', l.control, undefined, opts), 'Control');
      if (c.AllowableMin === undefined || c.AllowableMax === undefined) throw new MulletError('PARSE', 'the power control has no AllowableMin/AllowableMax', { where: this.c.baseUrl });
      this.range = { minW: c.AllowableMin, maxW: c.AllowableMax };
    } else {
      const cap = this.parse(legacySchema, await this.call('GET', l.power, undefined, opts), 'Power').PowerControl[0]?.PowerCapacityWatts;
      if (cap === null || cap === undefined) throw new MulletError('PARSE', 'PowerCapacityWatts is missing (no way to know the range)', { where: this.c.baseUrl });
      this.range = { minW: this.c.minPowerW ?? 0.4 * cap, maxW: cap };
    }
    return this.range;
  }

  async readPowerLimitW(opts?: CallOptions): Promise<number | null> {
    const l = await this.discover(opts);
    if (l.kind === 'controls') {
      const c = this.parse(controlSchema, await this.call('GET', l.control, undefined, opts), 'Control');
      return c.ControlMode === 'Disabled' ? null : (c.SetPoint ?? null);
    }
    return this.parse(legacySchema, await this.call('GET', l.power, undefined, opts), 'Power').PowerControl[0]?.PowerLimit?.LimitInWatts ?? null;
  }

  async setPowerLimitW(watts: number, opts?: CallOptions): Promise<void> {
    const r = await this.limitRangeW(opts);
    if (!Number.isFinite(watts) || watts < r.minW || watts > r.maxW) throw badInput(`power limit ${watts} W is outside the BMC's range ${r.minW}–${r.maxW} W`, this.c.id);
    const l = await this.discover(opts);
    const w = Math.round(watts);
    if (l.kind === 'controls') await this.call('PATCH', l.control, { SetPoint: w, ControlMode: 'Manual' }, opts);
    else await this.call('PATCH', l.power, { PowerControl: [{ PowerLimit: { LimitInWatts: w } }] }, opts);
  }

  async clearPowerLimit(opts?: CallOptions): Promise<void> {
    const l = await this.discover(opts);
    if (l.kind === 'controls') await this.call('PATCH', l.control, { ControlMode: 'Disabled' }, opts);
    else await this.call('PATCH', l.power, { PowerControl: [{ PowerLimit: { LimitInWatts: null } }] }, opts);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Redfish errors carry @Message.ExtendedInfo: its first message, for the log. */
function extendedInfo(body: unknown): string {
  const m = z.object({ error: z.object({ '@Message.ExtendedInfo': z.array(z.object({ Message: z.string() })).min(1) }) }).safeParse(body);
  return m.success ? `: ${m.data.error['@Message.ExtendedInfo'][0]?.Message ?? ''}` : '';
}
