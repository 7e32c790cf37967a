/**
 * The dashboard's calls to the console API (same origin: the session cookie goes along, SameSite=
 * Strict). Replies are the shapes of src/console/views.ts and src/fleet/agent/api.ts; the browser
 * code reads only the fields it shows and treats everything else as unknown.
 */
export interface Me {
  kind: 'user' | 'key';
  name: string;
  role: string;
  site: string | null;
  permissions: string[];
}

export interface Status {
  site: string;
  nowMs: number;
  miners: number;
  limits: { importLimitMW: number; aiMW: number; otherLoadMW: number; safetyMarginMW: number; safeMode: string };
  meter: { last: { siteMW: number; atMs: number } | null; error: string | null } | null;
  signal: { capMW: number | null; capSignalId: string | null; tracking: string | null };
  lastTick: {
    seq: number;
    startedAt: string;
    target: { source: string; stale: boolean; reason?: string };
    decision: { allowedMiningMW: number | null; limitedBy: string; projectedMiningMW: number; projectedSiteMW: number; headroomMW: number | null; safeMode: { mode: string; reason: string } | null };
  } | null;
  minersByState: Record<string, number>;
  ai?: { load: string; kind: string; fullMW: number; readMW: number | null; limitMW: number | null; usedHours: number; eventSince: string | null; blocked: string | null; errors: string[] }[];
  alerts: { kind: string; detail: string; at: string }[];
  /** The energy price in force and where it comes from; null/absent without a price feed or plan. */
  price?: { usdPerMWh: number; intervalStart: string | null; source: string } | null;
  fleetStrikesUsdPerMWh?: Record<string, number> | null;
}

export interface SignalTiming {
  id: string;
  kind: string;
  state: string;
  capMW: number | null;
  signalReceivedAt?: string;
  confirmedAt?: string | null;
  elapsedMs?: number | null;
}

export interface AuditEntry {
  id: number;
  atMs: number;
  actorType: string;
  actor: string;
  action: string;
  scope: string;
  target: string | null;
  result: string;
  status: number | null;
  correlationId: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const BASE = '/api/v1';

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(BASE + path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined && method === 'GET' ? {} : { 'content-type': 'application/json' },
    ...(method === 'GET' ? {} : { body: JSON.stringify(body ?? {}) }),
  });
  const text = await res.text();
  const json: unknown = text === '' ? {} : JSON.parse(text);
  if (!res.ok) {
    const msg = (json as { error?: { message?: string } }).error?.message ?? `HTTP ${res.status}`;
    throw new ApiError(res.status, msg);
  }
  return json as T;
}
