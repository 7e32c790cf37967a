/**
 * Files in ../shared/data that are recognised but hold no market data to store: they are reported
 * and skipped (exit 0). The halvings table is checked against the consensus subsidy schedule.
 */
import { HALVING_INTERVAL_BLOCKS, blockSubsidyBtc } from '../../bitcoin/subsidy.js';
import type { ParsedBatch } from '../types.js';
import type { FileFormat, FormatReader } from './format.js';

/** A table that is only counted: `note(rows)` says what it is and why nothing is imported. */
function countOnly(note: (rows: number) => string): () => FormatReader {
  return () => ({ row: () => undefined, finish: (out: ParsedBatch, rows: number) => void out.notes.push(note(rows)) });
}

export const REFERENCE_FORMATS: readonly FileFormat[] = [
  {
    id: 'btc-halvings',
    title: 'Bitcoin halvings reference table, btc_halvings.csv (verified against consensus, not stored)',
    header: [
      'halving_number',
      'height',
      'date_utc',
      'subsidy_before_btc',
      'subsidy_after_btc',
      'verified_in_blocks_per_day',
      'blocks_file_height_prev_day_end',
      'blocks_file_height_day_end',
    ],
    imports: false,
    open: () => {
      let n = 0;
      return {
        row(_cells, row) {
            const number = row.int(0);
            const height = row.int(1);
            if (number < 1 || height !== number * HALVING_INTERVAL_BLOCKS) row.fail(1, `halving ${number} is at height ${number * HALVING_INTERVAL_BLOCKS}, got ${height}`);
            if (row.raw(2) !== '') row.date(2);
            if (row.num(3) !== blockSubsidyBtc(height - 1)) row.fail(3, `subsidy before height ${height} is ${blockSubsidyBtc(height - 1)} BTC`);
            if (row.num(4) !== blockSubsidyBtc(height)) row.fail(4, `subsidy from height ${height} is ${blockSubsidyBtc(height)} BTC`);
            const prevEnd = row.raw(6) === '' ? undefined : row.int(6);
            const dayEnd = row.raw(7) === '' ? undefined : row.int(7);
            if (prevEnd !== undefined && dayEnd !== undefined && !(prevEnd < height && height <= dayEnd)) {
              row.fail(7, `height ${height} is not reached on the stated day (${prevEnd} at the end of the day before, ${dayEnd} at its end)`);
            }
            n++;
        },
        finish(batch) {
          batch.notes.push(`reference table: ${n} halving(s) match the consensus subsidy schedule (bitcoin/subsidy.ts); nothing to import`);
        },
      };
    },
  },
  {
    id: 'ercot-monthly-peak-load',
    title: 'ERCOT monthly hourly peak load, ercot_monthly_peak_load_*.csv (derived, not stored)',
    header: ['year', 'month', 'is_4cp_month', 'peak_hourly_load_mw', 'peak_hour_start_utc', 'peak_hour_start_local', 'hours_present', 'hours_expected', 'coverage_pct', 'source'],
    imports: false,
    open: countOnly((rows) => `derived file (${rows} monthly peaks): nothing to import; 4CP peaks are recomputed from the hourly TOTAL load in ercot_load_hourly_*.csv`),
  },
  {
    id: 'asic-miner-specs',
    title: 'ASIC miner hardware specs, asic_miner_specs.csv (hardware table, not market data)',
    header: ['manufacturer', 'model', 'hashrate_ths', 'power_w', 'efficiency_j_per_th', 'release_year', 'release_month', 'cooling', 'source'],
    imports: false,
    open: countOnly((rows) => `hardware spec table (${rows} miners), not market data: nothing to import (load it with mullet catalog --file)`),
  },
  {
    id: 'gpu-datacenter-specs',
    title: 'GPU / AI system hardware specs, gpu_datacenter_specs.csv (hardware table, not market data)',
    header: ['vendor', 'model', 'architecture', 'form_factor', 'unit', 'power_w', 'memory_gb', 'release_year', 'source'],
    imports: false,
    open: countOnly((rows) => `hardware spec table (${rows} GPUs/systems), not market data: nothing to import`),
  },
];
