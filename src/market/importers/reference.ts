/**
 * Files in ../shared/data that are recognised but hold no market data to store: they are reported
 * and skipped (exit 0). The halvings table is checked against the consensus subsidy schedule.
 */
import { HALVING_INTERVAL_BLOCKS, blockSubsidyBtc } from '../../bitcoin/subsidy.js';
import { emptyBatch } from '../types.js';
import type { FileFormat } from './format.js';

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
    parse(csv) {
      const batch = emptyBatch('btc-halvings');
      let n = 0;
      csv.forEachRow((_cells, row) => {
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
      });
      batch.notes.push(`reference table: ${n} halving(s) match the consensus subsidy schedule (bitcoin/subsidy.ts); nothing to import`);
      return batch;
    },
  },
  {
    id: 'ercot-monthly-peak-load',
    title: 'ERCOT monthly hourly peak load, ercot_monthly_peak_load_*.csv (derived, not stored)',
    header: ['year', 'month', 'is_4cp_month', 'peak_hourly_load_mw', 'peak_hour_start_utc', 'peak_hour_start_local', 'hours_present', 'hours_expected', 'coverage_pct', 'source'],
    imports: false,
    parse(csv) {
      const batch = emptyBatch('ercot-monthly-peak-load');
      batch.notes.push(
        `derived file (${csv.countRows()} monthly peaks): nothing to import; 4CP peaks are recomputed from the hourly TOTAL load in ercot_load_hourly_*.csv`,
      );
      return batch;
    },
  },
  {
    id: 'asic-miner-specs',
    title: 'ASIC miner hardware specs, asic_miner_specs.csv (hardware table, not market data)',
    header: ['manufacturer', 'model', 'hashrate_ths', 'power_w', 'efficiency_j_per_th', 'release_year', 'release_month', 'cooling', 'source'],
    imports: false,
    parse(csv) {
      const batch = emptyBatch('asic-miner-specs');
      batch.notes.push(`hardware spec table (${csv.countRows()} miners), not market data: nothing to import (load it with mullet catalog --file)`);
      return batch;
    },
  },
  {
    id: 'gpu-datacenter-specs',
    title: 'GPU / AI system hardware specs, gpu_datacenter_specs.csv (hardware table, not market data)',
    header: ['vendor', 'model', 'architecture', 'form_factor', 'unit', 'power_w', 'memory_gb', 'release_year', 'source'],
    imports: false,
    parse(csv) {
      const batch = emptyBatch('gpu-datacenter-specs');
      batch.notes.push(`hardware spec table (${csv.countRows()} GPUs/systems), not market data: nothing to import`);
      return batch;
    },
  },
];
