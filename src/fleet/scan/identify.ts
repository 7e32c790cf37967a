/**
 * Identifies what answers on one address: asks the cgminer-style API for `version`, then `stats`
 * and `summary` when the first answer is not conclusive, recognises the firmware from what it
 * says about itself, probes the web port for firmware whose control goes over HTTP, and reads
 * one telemetry snapshot through the chosen driver. At most one socket is open at a time.
 */
import { canReadStatus, type Capability, type DriverCredentials, type DriverRegistry, type Telemetry } from '../capabilities.js';
import { startCall, type CallOptions, type ExchangeLimits } from '../protocols/call.js';
import { cgminerCommand, section, type CgminerReply } from '../protocols/cgminer.js';
import { isMinerError, type MinerError } from '../protocols/errors.js';
import { DigestHttpClient } from '../protocols/http-digest.js';
import { str, type Obj } from '../protocols/values.js';
import { minerId, normalizeMac } from '../identity.js';
import type { InventoryMiner } from '../inventory.js';

export interface ProbeOptions {
  registry: DriverRegistry;
  apiPort: number;
  httpPort: number;
  /** Deadline per device call, ms (each exchange is also capped by it). */
  timeoutMs: number;
  limits?: Partial<ExchangeLimits>;
  signal?: AbortSignal;
  /** Credentials for web UIs and privileged APIs (stock Antminer default root/root). */
  creds?: DriverCredentials;
  /** Nameplate power for a model, W, from the catalog; null when unknown. */
  ratedPowerW?: (model: string | null, type: string) => number | null;
  /** The catalog model a firmware model string maps to (e.g. 'M60S_VK40' → 'Whatsminer M60S'); null when none. */
  catalogModel?: (model: string | null) => string | null;
}

export type ProbeOutcome =
  | { kind: 'miner'; miner: InventoryMiner; telemetryError: MinerError | null }
  | { kind: 'none' }
  | { kind: 'unidentified'; host: string; why: string }
  | { kind: 'failed'; host: string; error: MinerError };

/** Retries once on a transient failure, except a refused connect (nothing listens there). */
export async function retryOnce<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!isMinerError(err) || !err.transient || err.fault === 'refused') throw err;
    return fn();
  }
}

function texts(body: Obj, status: CgminerReply['status'] | null): string {
  return JSON.stringify([status?.description ?? '', body.VERSION ?? '', (body.STATS as unknown[] | undefined)?.[0] ?? '']);
}

/** Firmware from a `version` reply, or null when it does not say enough. */
export function classifyVersion(reply: CgminerReply): string | null {
  const v = section(reply.body, 'VERSION')[0] ?? {};
  const all = texts(reply.body, reply.status);
  if (/LUXminer/i.test(all)) return 'luxos';
  if (/BOSminer|bosminer|BOSer/.test(all)) return 'braiins-legacy';
  if (/vnish/i.test(all)) return 'vnish';
  if (/avalon/i.test(str(v.PROD) ?? '') || str(v.MODEL) !== null) return 'avalon';
  if (/whatsminer|btminer/i.test(all) || 'api_ver' in v || 'fw_ver' in v) return 'whatsminer-v2';
  // A stock-looking bmminer answer ("BMMiner" key, "Antminer …" Type) is confirmed by `stats`,
  // where aftermarket firmware that copies this shape names itself (VNish does).
  return null;
}

/** Firmware from a `stats` reply. */
export function classifyStats(reply: CgminerReply): string | null {
  const stats = section(reply.body, 'STATS');
  const info = stats[0] ?? {};
  const type = str(info.Type) ?? '';
  if (/vnish/i.test(type)) return 'vnish';
  if (/LUXminer/i.test(reply.status.description ?? '')) return 'luxos';
  if (stats.some((s) => Object.keys(s).some((k) => k.startsWith('MM ID')))) return 'avalon';
  if (/antminer/i.test(type) && ('BMMiner' in info || /bmminer|cgminer 1\.0\.0/i.test(reply.status.description ?? ''))) return 'antminer-stock';
  return null;
}

/** Firmware from a `summary` reply (Whatsminer puts its power and firmware fields there). */
export function classifySummary(reply: CgminerReply): string | null {
  const s = section(reply.body, 'SUMMARY')[0] ?? {};
  if (['Power_RT', 'Factory GHS', 'CB Platform', 'Firmware Version', 'Power Limit'].some((k) => k in s)) return 'whatsminer-v2';
  if (/BOSminer/i.test(reply.status.description ?? '')) return 'braiins-legacy';
  if (/LUXminer/i.test(reply.status.description ?? '')) return 'luxos';
  return null;
}

/** Capabilities of a type that need the web port (declared on the factory). */
function httpOnly(registry: DriverRegistry, type: string): readonly Capability[] {
  return registry.get(type).httpCapabilities ?? [];
}

/** Whether a web UI answers, and the MAC its system-info page reports (stock Antminer `macaddr`). */
async function webAnswers(host: string, opts: ProbeOptions): Promise<{ ok: boolean; macAddress: string | null }> {
  const client = new DigestHttpClient({ username: opts.creds?.username ?? 'root', password: opts.creds?.password ?? 'root' });
  try {
    const res = await retryOnce(() =>
      client.request(startCall({ timeoutMs: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) }), {
        method: 'GET',
        host,
        port: opts.httpPort,
        path: '/cgi-bin/get_system_info.cgi',
        ...(opts.limits ? { limits: opts.limits } : {}),
      }),
    );
    return { ok: res.status < 500, macAddress: res.status === 200 ? macFromSystemInfo(res.body) : null };
  } catch (err) {
    if (isMinerError(err) && err.code === 'ABORTED') throw err;
    // 401 after retry (wrong password) still proves a web UI is there.
    return { ok: isMinerError(err) && err.code === 'AUTH', macAddress: null };
  }
}

/** `macaddr` of a get_system_info.cgi JSON body, or null. */
function macFromSystemInfo(body: Buffer | string): string | null {
  try {
    const j = JSON.parse(typeof body === 'string' ? body : body.toString('utf8')) as unknown;
    return typeof j === 'object' && j !== null && 'macaddr' in j ? normalizeMac(String(j.macaddr)) : null;
  } catch {
    return null;
  }
}

/** Probes one address. Never throws except ABORTED. */
export async function probeHost(host: string, opts: ProbeOptions): Promise<ProbeOutcome> {
  const call = (): CallOptions => ({ timeoutMs: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
  const ep = { host, port: opts.apiPort, ...(opts.limits ? { limits: opts.limits } : {}) };
  const ask = async (command: string): Promise<CgminerReply | 'error-status'> => {
    try {
      return await retryOnce(() => cgminerCommand(ep, command, {}, startCall(call())));
    } catch (err) {
      if (isMinerError(err) && err.fault === 'status') return 'error-status';
      throw err;
    }
  };

  let type: string | null = null;
  try {
    const version = await ask('version');
    if (version !== 'error-status') type = classifyVersion(version);
    if (type === null) {
      const stats = await ask('stats');
      if (stats !== 'error-status') type = classifyStats(stats);
    }
    if (type === null) {
      const summary = await ask('summary');
      if (summary !== 'error-status') type = classifySummary(summary);
    }
  } catch (err) {
    if (!isMinerError(err)) throw err;
    if (err.code === 'ABORTED') throw err;
    if (err.fault === 'refused' || err.fault === 'unreachable') return { kind: 'none' };
    if (err.code === 'PARSE') return { kind: 'unidentified', host, why: err.message };
    return { kind: 'failed', host, error: err };
  }
  if (type === null || !opts.registry.has(type)) return { kind: 'unidentified', host, why: 'answers the cgminer API but matches no known firmware' };

  const factory = opts.registry.get(type);
  let capabilities: Capability[] = [...factory.capabilities];
  let httpPort: number | undefined;
  let webMac: string | null = null;
  const viaHttp = httpOnly(opts.registry, type);
  if (viaHttp.length > 0) {
    const web = await webAnswers(host, opts);
    webMac = web.macAddress;
    if (web.ok) httpPort = opts.httpPort;
    else capabilities = capabilities.filter((c) => !viaHttp.includes(c));
  }

  const driver = opts.registry.create(type, {
    host,
    ports: { api: opts.apiPort, ...(httpPort === undefined ? {} : { http: httpPort }) },
    ...(opts.creds ? { creds: opts.creds } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
    callTimeoutMs: opts.timeoutMs,
  });
  let telemetry: Telemetry | null = null;
  let telemetryError: MinerError | null = null;
  try {
    if (canReadStatus(driver)) telemetry = await retryOnce(() => driver.readTelemetry(call()));
  } catch (err) {
    if (!isMinerError(err)) throw err;
    if (err.code === 'ABORTED') throw err;
    telemetryError = err;
  } finally {
    await driver.close().catch(() => undefined);
  }
  const model = telemetry?.model ?? null;
  const macAddress = telemetry?.macAddress ?? webMac;
  const miner: InventoryMiner = {
    id: minerId({ macAddress, host, apiPort: opts.apiPort }),
    host,
    ports: { api: opts.apiPort, ...(httpPort === undefined ? {} : { http: httpPort }) },
    type,
    model,
    catalogModel: opts.catalogModel?.(model) ?? null,
    macAddress,
    firmware: telemetry?.firmware ?? null,
    capabilities,
    hashrateThs: telemetry?.hashrateThs ?? null,
    powerW: telemetry?.powerW ?? null,
    ratedPowerW: opts.ratedPowerW?.(model, type) ?? null,
  };
  return { kind: 'miner', miner, telemetryError };
}
