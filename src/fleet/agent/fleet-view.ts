/**
 * The fleet as the console sees it, read-only: one row per miner (model, firmware, rack, state,
 * temperatures, fans, the last command) and the curtailment preview — which machines a curtail of
 * X MW / % / all would take, computed by the agent's own pure `decide()` on the last snapshot,
 * never sent. The zod schemas are the wire contract of `GET /api/v1/fleet` and
 * `POST /api/v1/fleet/curtail-preview`; the pure functions here build them from the agent's views.
 */
import { z } from 'zod';
import { currentPowerW, decide, effectiveState } from './decide.js';
import { capFor, type SignalSpec } from './signals.js';
import type { DecideConfig, DecideInputs, MinerIntent, MinerView } from './types.js';

/** What a status read brought beyond the decision's subset (drivers with a StatusReader only). */
export interface MinerHealth {
  tempsC: number[];
  fansRpm: number[];
  firmware: string | null;
}

/** Everything the agent holds about one miner, as `fleetRows` needs it. */
export interface MinerFacts {
  view: MinerView;
  host: string;
  driver: string;
  model: string | null;
  health: MinerHealth | null;
  readError: string | null;
  implausible: string | null;
}

const iso = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);

export const lastCommandSchema = z.object({
  kind: z.enum(['sleep', 'wake', 'target']),
  targetW: z.number().nullable(),
  status: z.enum(['pending', 'confirmed', 'failed']),
  sentAt: z.string().nullable(),
  attempts: z.number().int(),
  why: z.string().nullable(),
  lastError: z.string().nullable(),
});

export const minerRowSchema = z.object({
  id: z.string(),
  host: z.string(),
  /** The rack: the inventory's when it has one, else the host's /24 subnet (`10.20.3`), how sites conventionally address racks. */
  rack: z.string(),
  model: z.string().nullable(),
  driver: z.string(),
  firmware: z.string().nullable(),
  /** The state the agent decides on (its reading with contradictions resolved), or unreachable. */
  state: z.string(),
  hashrateThs: z.number().nullable(),
  ratedHashrateThs: z.number(),
  powerW: z.number().nullable(),
  ratedPowerW: z.number(),
  /** What the agent counts it at, W (unknown and unreachable at nameplate). */
  countedW: z.number(),
  powerTargetW: z.number().nullable(),
  efficiencyJPerTh: z.number().nullable(),
  /** °C per sensor; null when the driver cannot read a status (temperatures unknown). */
  tempsC: z.array(z.number()).nullable(),
  maxTempC: z.number().nullable(),
  fansRpm: z.array(z.number()).nullable(),
  /** Hashboards and pools are not in the per-tick read (a cost on every miner every tick): null here; `GET /fleet/miners/:id/health` reads them from the device on demand. */
  hashboards: z.null(),
  pool: z.null(),
  readAt: z.string().nullable(),
  readError: z.string().nullable(),
  implausible: z.string().nullable(),
  lastCommand: lastCommandSchema.nullable(),
});
export type MinerRow = z.infer<typeof minerRowSchema>;

/** GET /api/v1/fleet. */
export const fleetViewSchema = z.object({ site: z.string(), nowMs: z.number(), miners: z.array(minerRowSchema) });
export type FleetView = z.infer<typeof fleetViewSchema>;

export const previewMinerSchema = z.object({
  id: z.string(),
  host: z.string(),
  rack: z.string(),
  model: z.string().nullable(),
  /** sleep, or a power target (targetW) on the marginal machine. */
  kind: z.enum(['sleep', 'target']),
  targetW: z.number().nullable(),
  efficiencyJPerTh: z.number().nullable(),
  /** Counted now, W at the device. */
  fromW: z.number(),
  /** Meter MW this command sheds (device W × PUE, minus the sleep draw). */
  shedMW: z.number(),
});

/** POST /api/v1/fleet/curtail-preview. */
export const curtailPreviewSchema = z.object({
  request: z.object({ mw: z.number().optional(), pct: z.number().optional(), all: z.literal(true).optional() }),
  /** Mining MW the cap is taken from (the chain's baseline while a curtail is in force, else mining now). */
  baselineMW: z.number(),
  capMW: z.number(),
  currentMiningMW: z.number(),
  projectedMiningMW: z.number(),
  allowedMiningMW: z.number(),
  limitedBy: z.string(),
  shedMW: z.number(),
  miners: z.array(previewMinerSchema),
  /** Miners already asleep or curtailed (not taken again). */
  alreadyCurtailed: z.number().int(),
  /** Why the preview may differ from what the agent will do. */
  note: z.string(),
});
export type CurtailPreview = z.infer<typeof curtailPreviewSchema>;

/** `10.20.3.17` → `10.20.3`; a name → its domain-less first label's prefix before a digit run ('rack7-m12' → 'rack7'). */
export function rackOf(host: string): string {
  const v4 = /^(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}$/.exec(host);
  if (v4) return v4[1] as string;
  const label = host.split('.')[0] ?? host;
  const m = /^(.*?)[-_]?[a-z]*\d+$/i.exec(label);
  return m?.[1] ? m[1] : label;
}

function jPerTh(v: MinerView): number | null {
  return v.ratedHashrateThs > 0 ? v.ratedPowerW / v.ratedHashrateThs : null;
}

function commandRow(it: MinerIntent | null): MinerRow['lastCommand'] {
  if (!it) return null;
  return { kind: it.kind, targetW: it.targetW ?? null, status: it.status, sentAt: iso(it.sentAtMs), attempts: it.attempts, why: it.why ?? null, lastError: it.lastError ?? null };
}

/** One row per miner (pure). */
export function fleetRows(facts: readonly MinerFacts[], cfg: DecideConfig): MinerRow[] {
  return facts.map((f) => {
    const v = f.view;
    const state = effectiveState(v, cfg);
    const temps = f.health?.tempsC ?? null;
    return {
      id: v.id,
      host: f.host,
      rack: rackOf(f.host),
      model: f.model,
      driver: f.driver,
      firmware: f.health?.firmware ?? null,
      state,
      hashrateThs: v.reading?.hashrateThs ?? null,
      ratedHashrateThs: v.ratedHashrateThs,
      powerW: v.reading?.powerW ?? null,
      ratedPowerW: v.ratedPowerW,
      countedW: currentPowerW(v, state, cfg),
      powerTargetW: v.powerTargetW,
      efficiencyJPerTh: jPerTh(v),
      tempsC: temps,
      maxTempC: temps && temps.length > 0 ? Math.max(...temps) : null,
      fansRpm: f.health?.fansRpm ?? null,
      hashboards: null,
      pool: null,
      readAt: iso(v.readAtMs),
      readError: f.readError,
      implausible: f.implausible,
      lastCommand: commandRow(v.intent),
    };
  });
}

/**
 * Which machines a curtail would take (pure): the cap the signal desk would set from `baselineMW`
 * (replacing any cap in force, as a real signal does), then `decide()` on the same views and the last tick's inputs.
 * Only the curtailing commands are listed; nothing is sent or recorded.
 */
export function previewCurtail(facts: readonly MinerFacts[], spec: SignalSpec, o: { inputs: DecideInputs; cfg: DecideConfig; baselineMW: number }): CurtailPreview {
  // A new curtail replaces the cap in force (from the same chain baseline), as the signal desk does.
  const capMW = capFor(spec, o.baselineMW);
  const views = facts.map((f) => f.view);
  const d = decide(views, { ...o.inputs, signalCapMW: capMW }, o.cfg);
  const byId = new Map(facts.map((f) => [f.view.id, f]));
  const miners: CurtailPreview['miners'] = [];
  let shedMW = 0;
  for (const c of d.commands) {
    if (c.reason !== 'curtail' || c.kind === 'wake') continue;
    const f = byId.get(c.minerId);
    if (!f) continue;
    const v = f.view;
    const fromW = currentPowerW(v, effectiveState(v, o.cfg), o.cfg);
    const toW = c.kind === 'sleep' ? v.ratedPowerW * o.cfg.sleepPowerFraction : (c.targetW ?? fromW);
    const shed = (Math.max(0, fromW - toW) * v.pue) / 1e6;
    shedMW += shed;
    miners.push({ id: v.id, host: f.host, rack: rackOf(f.host), model: f.model, kind: c.kind, targetW: c.targetW ?? null, efficiencyJPerTh: jPerTh(v), fromW, shedMW: shed });
  }
  const alreadyCurtailed = views.filter((v) => {
    const s = effectiveState(v, o.cfg);
    return s === 'sleeping' || (v.intent?.kind === 'sleep' && v.intent.status !== 'failed');
  }).length;
  const request = spec.all ? { all: true as const } : spec.mw !== undefined ? { mw: spec.mw } : { pct: spec.pct ?? 0 };
  return {
    request,
    baselineMW: o.baselineMW,
    capMW,
    currentMiningMW: d.currentMiningMW,
    projectedMiningMW: d.projectedMiningMW,
    allowedMiningMW: d.allowedMiningMW,
    limitedBy: d.limitedBy,
    shedMW,
    miners,
    alreadyCurtailed,
    note: 'computed by the agent’s decide() on its last reading; the real tick re-reads the fleet first, so drift or new readings may change the pick. Nothing was sent.',
  };
}
