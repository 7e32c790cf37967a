import { describe, expect, it } from 'vitest';
import { MulletError } from '../../core/errors.js';
import { actualLoadCsv, forecastLoadCsv } from './testing/ercot-load-csv.js';
import { FORECAST_TOTAL_ZONE } from './ercot-load-reports.js';
import { parseDataText } from './registry.js';

const at = (iso: string) => Date.parse(iso);

describe('ERCOT load postings (constructed from the documented layouts)', () => {
  it('NP6-345-CD: TOTAL and the weather zones under the names the hourly load file uses, hour ENDING → start in UTC', () => {
    const { format, batch } = parseDataText('act.csv', actualLoadCsv('2025-04-11', 3));
    expect(format.id).toBe('ercot-np6-345');
    expect(new Set(batch.loads.map((l) => l.zone))).toEqual(new Set(['TOTAL', 'COAST', 'EAST', 'FAR_WEST', 'NORTH', 'NORTH_CENTRAL', 'SOUTH', 'SOUTH_CENTRAL', 'WEST']));
    const total = batch.loads.filter((l) => l.zone === 'TOTAL');
    expect(total.map((l) => l.intervalStartMs)).toEqual([at('2025-04-11T05:00:00Z'), at('2025-04-11T06:00:00Z'), at('2025-04-11T07:00:00Z')]);
    expect(total.every((l) => l.intervalMinutes === 60 && l.loadMW > 40_000)).toBe(true);
  });

  it('NP3-565-CD: only the in-use model, only the system total, as its own zone', () => {
    const { format, batch } = parseDataText('fc.csv', forecastLoadCsv('2025-04-11', 2, 'M'));
    expect(format.id).toBe('ercot-np3-565');
    expect(batch.loads).toHaveLength(48);
    expect(batch.loads.every((l) => l.zone === FORECAST_TOTAL_ZONE)).toBe(true);
    expect(batch.loads[0]?.intervalStartMs).toBe(at('2025-04-11T05:00:00Z'));
    expect(batch.notes.join(' ')).toContain('48 rows of other models left out');
  });

  it('a repeated fall-back hour (DSTFlag Y) is the CST pass; a malformed cell names file:line:column', () => {
    const text = 'OperDay,HourEnding,COAST,EAST,FAR_WEST,NORTH,NORTH_C,SOUTHERN,SOUTH_C,WEST,TOTAL,DSTFlag\n11/03/2024,02:00,1,1,1,1,1,1,1,1,8,N\n11/03/2024,02:00,1,1,1,1,1,1,1,1,8,Y\n';
    const starts = parseDataText('dst.csv', text).batch.loads.filter((l) => l.zone === 'TOTAL').map((l) => l.intervalStartMs);
    expect(starts).toEqual([at('2024-11-03T06:00:00Z'), at('2024-11-03T07:00:00Z')]);
    try {
      parseDataText('bad.csv', text.replace(',8,Y', ',NaN,Y'));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(MulletError);
      expect((err as MulletError).where).toBe('bad.csv:3:11');
    }
  });
});
