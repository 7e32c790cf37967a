import { describe, expect, it } from 'vitest';
import { parseDeploymentsCsv } from './deployments.js';

describe('deployments CSV', () => {
  it('reads product, UTC start and end, and the deployed share', () => {
    expect(parseDeploymentsCsv('product,start_utc,end_utc,fraction\nECRS,2023-09-06T23:15:00Z,2023-09-07T01:00:00Z,1\n\nERS-30,2023-08-10T20:00Z,2023-08-10T22:00Z,0.5\n', 'd.csv')).toEqual([
      { product: 'ECRS', startMs: Date.parse('2023-09-06T23:15:00Z'), endMs: Date.parse('2023-09-07T01:00:00Z'), fraction: 1 },
      { product: 'ERS-30', startMs: Date.parse('2023-08-10T20:00:00Z'), endMs: Date.parse('2023-08-10T22:00:00Z'), fraction: 0.5 },
    ]);
  });

  it('names the file and line of a bad row', () => {
    const bad = (row: string) => () => parseDeploymentsCsv(`product,start_utc,end_utc,fraction\n${row}\n`, 'd.csv');
    expect(bad('SPIN,2023-09-06T23:15:00Z,2023-09-07T01:00:00Z,1')).toThrow(/product must be one of RRS, ECRS, NSPIN, ERS-10, ERS-30/);
    expect(bad('ECRS,2023-09-06 23:15,2023-09-07T01:00:00Z,1')).toThrow(/start_utc must be a UTC instant/);
    expect(bad('ECRS,2023-09-07T01:00:00Z,2023-09-06T23:15:00Z,1')).toThrow(/end_utc must be after start_utc/);
    expect(bad('ECRS,2023-09-06T23:15:00Z,2023-09-07T01:00:00Z,1.5')).toThrow(/fraction must be in \(0, 1\]/);
    expect(() => parseDeploymentsCsv('a,b\n', 'd.csv')).toThrow(/expected the header/);
    try {
      bad('ECRS,x,y,1')();
    } catch (err) {
      expect((err as { where?: string }).where).toBe('d.csv:2');
    }
  });
});
