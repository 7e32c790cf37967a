/**
 * Converts a synthetic market into a ParsedBatch for MarketStore.ingest, under the market name
 * SYNTH-ERCOT so no query for real ERCOT data can ever return it.
 */
import { emptyBatch, type ParsedBatch } from '../market/types.js';
import type { SyntheticMarket, SyntheticSeries } from './generate.js';
import { SYNTHETIC_LABEL } from './params.js';

/** The `source` name synthetic batches carry in import reports. */
export const SYNTHETIC_SOURCE = 'mullet-synthetic';

function times(s: SyntheticSeries, i: number): number {
  return s.startMs + i * s.intervalMinutes * 60_000;
}

/**
 * RT and DA prices and TOTAL load as store rows under `m.market` (SYNTH-ERCOT). Daily Bitcoin rows
 * are left out on purpose: the store keys them by date only, so synthetic BTC days would overwrite
 * or blend with real ones. The batch notes say so.
 */
export function toParsedBatch(m: SyntheticMarket): ParsedBatch {
  const b: ParsedBatch = { ...emptyBatch(SYNTHETIC_SOURCE), provider: SYNTHETIC_SOURCE };
  const sp = m.settlementPoint;
  m.rtPrice.values.forEach((v, i) =>
    b.prices.push({ market: m.market, settlementPoint: sp, kind: 'RT', intervalStartMs: times(m.rtPrice, i), intervalMinutes: m.rtPrice.intervalMinutes, priceUsdPerMWh: v }),
  );
  m.daPrice.values.forEach((v, i) =>
    b.prices.push({ market: m.market, settlementPoint: sp, kind: 'DA', intervalStartMs: times(m.daPrice, i), intervalMinutes: 60, priceUsdPerMWh: v }),
  );
  m.systemLoad.values.forEach((v, i) => b.loads.push({ market: m.market, zone: 'TOTAL', intervalStartMs: times(m.systemLoad, i), intervalMinutes: 60, loadMW: v }));
  b.notes.push(`${SYNTHETIC_LABEL} (seed ${String(m.seed)}, params: ${m.paramsSource})`);
  b.notes.push('synthetic Bitcoin days are not stored: the store keys BTC days by date only, so they could be mistaken for real data');
  return b;
}
