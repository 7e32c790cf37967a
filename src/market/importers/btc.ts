/**
 * Bitcoin daily files (PROVENANCE §4, §7). Each record carries its publisher as `source`; the
 * store keeps every source per field and applies precedence on read (store/precedence.ts).
 * `priceUsd` means the close of the UTC day: Bitstamp's 00:00 UTC price of day d+1 is stored as
 * the close of day d.
 */
import { MS_PER_DAY, utcDate } from '../../core/time.js';
import type { BtcDay, ParsedBatch } from '../types.js';
import type { RowCursor } from '../../core/csv.js';
import type { FileFormat, FormatReader } from './format.js';

/** A reader that turns each row into records on its own (no state across rows), with an optional note at the end. */
function eachRow(read: (row: RowCursor, out: ParsedBatch) => void, note?: string): () => FormatReader {
  return () => ({
    row: (_cells, row, out) => read(row, out),
    ...(note === undefined ? {} : { finish: (out: ParsedBatch) => void out.notes.push(note) }),
  });
}

function positive(row: RowCursor, index: number): number {
  const v = row.num(index);
  if (v <= 0) row.fail(index, `must be > 0, got ${v}`);
  return v;
}

function nonNegative(row: RowCursor, index: number): number {
  const v = row.num(index);
  if (v < 0) row.fail(index, `must be >= 0, got ${v}`);
  return v;
}

function nonNegativeInt(row: RowCursor, index: number): number {
  const v = row.int(index);
  if (v < 0) row.fail(index, `must be >= 0, got ${v}`);
  return v;
}

/** `derived` must match `base / divisor` to the rounding of `decimals` places (catches shifted columns). */
function checkDerived(row: RowCursor, index: number, base: number, divisor: number, decimals: number): void {
  const v = row.num(index);
  const expected = base / divisor;
  if (Math.abs(v - expected) > 0.5 * 10 ** -decimals + 1e-9 * Math.abs(expected)) {
    row.fail(index, `${v} does not match ${row.header[index - 1] ?? 'the base column'} / ${divisor} = ${expected}`);
  }
}

const PRICE_HEADER = ['date_utc', 'btc_usd_bitstamp_0000utc', 'btc_usd_yahoo_open', 'btc_usd_yahoo_high', 'btc_usd_yahoo_low', 'btc_usd_yahoo_close'];
const NETWORK_HEADER = ['date_utc', 'difficulty', 'hashrate_ths', 'hashrate_ehs'];
const EPOCHS_HEADER = ['first_full_day_utc', 'difficulty', 'difficulty_T', 'pct_change_vs_prev_epoch', 'days_observed'];
const BLOCKS_HEADER = ['date_utc', 'blocks_mined', 'height_end_of_day'];
const COINMETRICS_HEADER = [
  'date_utc',
  'blocks_mined',
  'fees_total_btc',
  'fees_per_block_btc',
  'fees_total_usd',
  'issuance_btc',
  'fee_share_of_miner_revenue',
  'price_usd_coinmetrics',
  'hashrate_ths',
  'hashrate_ehs',
  'difficulty_implied',
];
const BLOCKSTATS_HEADER = ['date_utc', 'blocks', 'fees_total_btc', 'subsidy_total_btc', 'tx_count', 'first_height', 'last_height'];

export const BTC_FORMATS: readonly FileFormat[] = [
  {
    id: 'btc-price-daily',
    title: 'BTC/USD daily: Bitstamp at 00:00 UTC (stored as the previous day\'s close) and Yahoo OHLC, btc_price_daily.csv',
    header: PRICE_HEADER,
    imports: true,
    open: eachRow((row, batch) => {
      const dayMs = row.date(0);
      const bitstamp = row.optNum(1);
      if (bitstamp !== undefined) {
        if (bitstamp <= 0) row.fail(1, `must be > 0, got ${bitstamp}`);
        batch.btcDays.push({ dateUtc: utcDate(dayMs - MS_PER_DAY), priceUsd: bitstamp, source: 'bitstamp' });
      }
      const ohlc = [2, 3, 4, 5].map((i) => row.optNum(i));
      const present = ohlc.filter((v) => v !== undefined).length;
      if (present !== 0 && present !== 4) row.fail(ohlc.findIndex((v) => v === undefined) + 2, 'Yahoo open/high/low/close must be all present or all blank');
      const [open, high, low, close] = ohlc as [number | undefined, number | undefined, number | undefined, number | undefined];
      if (open !== undefined && high !== undefined && low !== undefined && close !== undefined) {
        if (!(low > 0 && low <= Math.min(open, close) && high >= Math.max(open, close))) row.fail(4, `inconsistent OHLC: open ${open}, high ${high}, low ${low}, close ${close}`);
        batch.btcDays.push({ dateUtc: utcDate(dayMs), priceUsd: close, source: 'yahoo' });
      }
    }, 'Bitstamp 00:00 UTC prices are stored as the close of the previous UTC day'),
  },
  {
    id: 'blockchaincom-network-daily',
    title: 'blockchain.com daily mean difficulty and hashrate (TH/s), btc_network_daily_blockchaincom.csv',
    header: NETWORK_HEADER,
    imports: true,
    provider: 'blockchain.com',
    open: eachRow((row, batch) => {
      const dateUtc = utcDate(row.date(0));
      const difficulty = positive(row, 1);
      const hashrateThs = positive(row, 2);
      checkDerived(row, 3, hashrateThs, 1e6, 3);
      batch.btcDays.push({ dateUtc, difficulty, hashrateThs });
    }),
  },
  {
    id: 'btc-difficulty-epochs',
    title: 'difficulty epochs derived from blockchain.com daily difficulty, btc_difficulty_epochs_*.csv',
    header: EPOCHS_HEADER,
    imports: true,
    provider: 'blockchain.com',
    open: eachRow((row, batch) => {
      const startDateUtc = utcDate(row.date(0));
      const difficulty = positive(row, 1);
      checkDerived(row, 2, difficulty, 1e12, 3);
      row.optNum(3);
      nonNegativeInt(row, 4);
      batch.epochs.push({ startDateUtc, difficulty });
    }),
  },
  {
    id: 'btc-blocks-per-day',
    title: 'blocks mined per UTC day and height at the end of the day, btc_blocks_per_day.csv',
    header: BLOCKS_HEADER,
    imports: true,
    provider: 'hotstopper',
    open: () => {
      let prev: { dayMs: number; height: number } | undefined;
      let breaks = 0;
      return {
        row(_cells, row, batch) {
          const dayMs = row.date(0);
          const blocks = nonNegativeInt(row, 1);
          const heightEndOfDay = nonNegativeInt(row, 2);
          if (prev && dayMs === prev.dayMs + MS_PER_DAY && heightEndOfDay !== prev.height + blocks) breaks++;
          prev = { dayMs, height: heightEndOfDay };
          batch.btcDays.push({ dateUtc: utcDate(dayMs), blocks, heightEndOfDay });
        },
        finish(batch) {
          if (breaks > 0) batch.notes.push(`${breaks} day(s) where height_end_of_day ≠ previous day's height + blocks_mined`);
        },
      };
    },
  },
  {
    id: 'coinmetrics-btc-daily',
    title: 'Coin Metrics daily fees, blocks, issuance, price, hashrate and implied difficulty, btc_fees_daily_coinmetrics_*.csv',
    header: COINMETRICS_HEADER,
    imports: true,
    provider: 'coinmetrics',
    open: eachRow((row, batch) => {
      const day: BtcDay = {
        dateUtc: utcDate(row.date(0)),
        blocks: nonNegativeInt(row, 1),
        feesBtc: nonNegative(row, 2),
        issuanceBtc: nonNegative(row, 5),
        priceUsd: positive(row, 7),
        hashrateThs: positive(row, 8),
        difficulty: positive(row, 10),
      };
      // Derived columns are checked for being numbers but not stored.
      for (const i of [3, 4, 6]) row.num(i);
      checkDerived(row, 9, day.hashrateThs ?? 0, 1e6, 3);
      batch.btcDays.push(day);
    }),
  },
  {
    id: 'blockstats-fees-daily',
    title: 'per-block getblockstats summed per UTC day (fees, subsidy, blocks, heights), btc_fees_daily_blockstats_*.csv',
    header: BLOCKSTATS_HEADER,
    imports: true,
    provider: 'blockstats',
    open: eachRow((row, batch) => {
      const dateUtc = utcDate(row.date(0));
      const blocks = nonNegativeInt(row, 1);
      const first = nonNegativeInt(row, 5);
      const last = nonNegativeInt(row, 6);
      if (last - first + 1 !== blocks) row.fail(6, `last_height ${last} − first_height ${first} + 1 ≠ blocks ${blocks}`);
      nonNegativeInt(row, 4);
      batch.btcDays.push({ dateUtc, blocks, feesBtc: nonNegative(row, 2), issuanceBtc: nonNegative(row, 3), heightEndOfDay: last });
    }),
  },
];
