import type { HashpriceInputs } from '../bitcoin/hashprice.js';
import { blockSubsidyBtc } from '../bitcoin/subsidy.js';
import { MulletError } from '../core/errors.js';
import { MS_PER_DAY, parseUtcDate, utcDate } from '../core/time.js';
import type { MarketStore } from '../store/market-store.js';
import type { BtcDay } from './types.js';

/** How far back a missing difficulty may be carried forward (it changes every ~2 weeks). */
export const DIFFICULTY_LOOKBACK_DAYS = 30;

/** Hashprice inputs for one UTC day, with where each carried-forward value came from. */
export interface HashpriceInputsForDate extends HashpriceInputs {
  dateUtc: string;
  /** Height whose subsidy is used: the day's end-of-day height, else the previous day's. */
  height: number;
  heightDateUtc: string;
  /** The day whose difficulty is used: `dateUtc`, else the latest earlier day within 30 days. */
  difficultyDateUtc: string;
  /** Total fees and block count of the day that gave feesBtcPerBlock. */
  feesBtc: number;
  blocks: number;
}

/**
 * Reads the explicit hashprice inputs for UTC day `dateUtc` (YYYY-MM-DD) from the market store:
 * price = that day's priceUsd; fees per block = feesBtc / blocks of that day; height = that
 * day's heightEndOfDay (else the previous day's), subsidy from it; difficulty = that day's, else
 * the latest within 30 days before. Throws NO_DATA naming every missing field and the date.
 */
export function hashpriceInputsForDate(store: Pick<MarketStore, 'btcDays'>, dateUtc: string): HashpriceInputsForDate {
  const dayMs = parseUtcDate(dateUtc);
  const fromDate = utcDate(dayMs - DIFFICULTY_LOOKBACK_DAYS * MS_PER_DAY);
  const rows = store.btcDays(fromDate, dateUtc);
  const day: BtcDay | undefined = rows.find((r) => r.dateUtc === dateUtc);
  const prevDate = utcDate(dayMs - MS_PER_DAY);
  const prev = rows.find((r) => r.dateUtc === prevDate);
  const withDifficulty = [...rows].reverse().find((r) => r.dateUtc <= dateUtc && r.difficulty !== undefined);

  const missing: string[] = [];
  if (day?.priceUsd === undefined) missing.push('BTC price (priceUsd)');
  if (day?.feesBtc === undefined) missing.push('total fees (feesBtc)');
  if (day?.blocks === undefined || day.blocks <= 0) missing.push('block count (blocks)');
  const heightRow = day?.heightEndOfDay !== undefined ? day : prev?.heightEndOfDay !== undefined ? prev : undefined;
  if (heightRow === undefined) missing.push(`block height (heightEndOfDay of ${dateUtc} or ${prevDate})`);
  if (withDifficulty === undefined) missing.push(`difficulty (on ${dateUtc} or within ${DIFFICULTY_LOOKBACK_DAYS} days before)`);
  if (
    missing.length > 0 ||
    day?.priceUsd === undefined ||
    day.feesBtc === undefined ||
    day.blocks === undefined ||
    heightRow?.heightEndOfDay === undefined ||
    withDifficulty?.difficulty === undefined
  ) {
    const what = day === undefined ? 'no Bitcoin data at all' : `missing ${missing.join(', ')}`;
    throw new MulletError('NO_DATA', `market store has ${what} for ${dateUtc}; import a source covering that day`, {
      where: `btc day ${dateUtc}`,
    });
  }
  return {
    dateUtc,
    btcPriceUsd: day.priceUsd,
    difficulty: withDifficulty.difficulty,
    difficultyDateUtc: withDifficulty.dateUtc,
    height: heightRow.heightEndOfDay,
    heightDateUtc: heightRow.dateUtc,
    subsidyBtc: blockSubsidyBtc(heightRow.heightEndOfDay),
    feesBtc: day.feesBtc,
    blocks: day.blocks,
    feesBtcPerBlock: day.feesBtc / day.blocks,
  };
}
