/**
 * The coordinator's pure rule: how much mining MW each shard of one site may run this tick.
 *
 * Budget B = import limit − AI − other load − margin − Σ nameplate of silent shards.
 * A silent shard (no report for `silentAfterMs`) cannot be trusted to obey, so it is counted at its
 * full nameplate and its cap is that nameplate (reserved: when it comes back it is inside the budget).
 * Reporting shards get at least what they cannot shed (`minMW`), at most what they want; the rest of
 * B is shared in proportion to (want − min) (water-filled, so what one cannot take goes to the others).
 * When nothing is left to share (B ≤ 0 or the minimums exceed it), every reporting shard gets 0.
 *
 * Transitions: a cap raised on shard A while shard B still sheds could put both on at once. So a
 * shard is counted at max(its current mining, its cap), and raises are granted only from the room
 * left after that (scaled down together when short): Σ max(current, cap) ≤ B holds every tick in
 * which Σ max(current, min) ≤ B held already. Units: MW at the meter; time UTC ms (injected).
 */

export interface ShardReport {
  shardId: string;
  /** When the coordinator received it (its own clock, never the shard's), UTC ms. */
  reportedAtMs: number;
  /** Mining MW the shard counts now (unknown/failed at nameplate), MW. */
  currentMiningMW: number;
  /** Every miner of the shard at nameplate, MW. */
  nameplateMW: number;
  /** What the shard cannot shed (floors, failed/unknown at nameplate, standby), MW. */
  minMW: number;
  /** What it would mine without a cap (its own target), MW. */
  wantMW: number;
}

export interface AllocateInput {
  nowMs: number;
  importLimitMW: number;
  aiMW: number;
  otherLoadMW: number;
  marginMW: number;
  /** Site-wide cap on mining (a curtail signal), MW; null when none. */
  siteMiningCapMW: number | null;
  silentAfterMs: number;
  /** Every shard the coordinator started, with its nameplate (for shards that never reported). */
  shards: readonly { shardId: string; nameplateMW: number }[];
  /** The latest report of each shard (absent: never reported, so silent). */
  reports: ReadonlyMap<string, ShardReport>;
}

export interface ShardAllocation {
  shardId: string;
  capMW: number;
  silent: boolean;
  /** What the shard is counted at in the budget: max(current, cap), or nameplate when silent, MW. */
  countedMW: number;
}

export interface Allocation {
  shards: ShardAllocation[];
  /** The budget for mining after AI, other load, margin and the site cap, MW (may be negative). */
  budgetMW: number;
  /** Σ countedMW, MW. */
  countedMW: number;
  /** False when even every reporting shard at its minimum plus the silent at nameplate exceed the budget. */
  feasible: boolean;
}

const nonNeg = (x: number): number => (Number.isFinite(x) && x > 0 ? x : 0);

/** Shares `room` over items in proportion to weight, each at most its ceiling (water-filling). */
function waterFill(room: number, items: { weight: number; ceiling: number }[]): number[] {
  const out = items.map(() => 0);
  let left = room;
  let open = items.map((_, i) => i).filter((i) => (items[i]?.ceiling ?? 0) > 0);
  while (left > 1e-12 && open.length > 0) {
    const wSum = open.reduce((a, i) => a + (items[i]?.weight ?? 0), 0);
    const share = (i: number): number => (wSum > 0 ? (left * (items[i]?.weight ?? 0)) / wSum : left / open.length);
    // Those whose share would pass their ceiling are filled; the rest are shared again.
    const full = open.filter((i) => share(i) >= (items[i]?.ceiling ?? 0) - (out[i] ?? 0));
    if (full.length === 0) {
      for (const i of open) out[i] = (out[i] ?? 0) + share(i);
      left = 0;
      break;
    }
    for (const i of full) {
      const add = (items[i]?.ceiling ?? 0) - (out[i] ?? 0);
      out[i] = (out[i] ?? 0) + add;
      left -= add;
    }
    open = open.filter((i) => !full.includes(i));
  }
  return out;
}

/** Caps per shard, MW; see the file comment for the rules. Pure. */
export function allocate(input: AllocateInput): Allocation {
  const reporting: { shardId: string; r: ShardReport }[] = [];
  const silent: { shardId: string; nameplateMW: number }[] = [];
  for (const s of input.shards) {
    const r = input.reports.get(s.shardId);
    if (r && input.nowMs - r.reportedAtMs <= input.silentAfterMs) reporting.push({ shardId: s.shardId, r });
    else silent.push({ shardId: s.shardId, nameplateMW: Math.max(nonNeg(s.nameplateMW), nonNeg(r?.nameplateMW ?? 0)) });
  }
  const silentMW = silent.reduce((a, s) => a + s.nameplateMW, 0);
  let budgetMW = input.importLimitMW - nonNeg(input.aiMW) - nonNeg(input.otherLoadMW) - nonNeg(input.marginMW);
  if (input.siteMiningCapMW !== null) budgetMW = Math.min(budgetMW, nonNeg(input.siteMiningCapMW));
  const forReporting = budgetMW - silentMW;

  const minOf = (r: ShardReport): number => Math.min(nonNeg(r.minMW), nonNeg(r.nameplateMW));
  const wantOf = (r: ShardReport): number => Math.max(minOf(r), Math.min(nonNeg(r.wantMW), nonNeg(r.nameplateMW)));
  const currentOf = (r: ShardReport): number => Math.max(nonNeg(r.currentMiningMW), minOf(r));
  const minSum = reporting.reduce((a, x) => a + minOf(x.r), 0);
  const feasible = minSum <= forReporting + 1e-9;

  // Ideal caps: min each, the rest water-filled by (want − min).
  const extra = waterFill(
    Math.max(0, forReporting - minSum),
    reporting.map((x) => ({ weight: wantOf(x.r) - minOf(x.r), ceiling: wantOf(x.r) - minOf(x.r) })),
  );
  const ideal = reporting.map((x, i) => minOf(x.r) + (extra[i] ?? 0));

  // Lowered caps take effect at once; raises only from the room left with every shard at max(current, min).
  const raises = reporting.map((x, i) => Math.max(0, (ideal[i] ?? 0) - currentOf(x.r)));
  const raiseSum = raises.reduce((a, b) => a + b, 0);
  const room = Math.max(0, forReporting - reporting.reduce((a, x) => a + currentOf(x.r), 0));
  const scale = raiseSum > 0 ? Math.min(1, room / raiseSum) : 0;

  // Nothing to share (a site curtail --all, or even the minimums do not fit): every reporting shard
  // is told 0 — shed all it can. A cap at its reported minimum would let it wake machines whenever
  // that minimum was over-estimated (standby counted at its commanded level until read).
  const shedAll = !feasible || forReporting <= 0;
  const shards: ShardAllocation[] = [];
  reporting.forEach((x, i) => {
    const id = shedAll ? 0 : (ideal[i] ?? 0);
    const cur = currentOf(x.r);
    const capMW = id <= cur ? id : cur + (raises[i] ?? 0) * scale;
    shards.push({ shardId: x.shardId, capMW, silent: false, countedMW: Math.max(cur, capMW) });
  });
  for (const s of silent) shards.push({ shardId: s.shardId, capMW: s.nameplateMW, silent: true, countedMW: s.nameplateMW });
  const order = new Map(input.shards.map((s, i) => [s.shardId, i]));
  shards.sort((a, b) => (order.get(a.shardId) ?? 0) - (order.get(b.shardId) ?? 0));
  return { shards, budgetMW, countedMW: shards.reduce((a, s) => a + s.countedMW, 0), feasible };
}
