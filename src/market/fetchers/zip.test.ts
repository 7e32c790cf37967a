import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isMulletError } from '../../core/errors.js';
import { sharedFile, skipWithoutSharedData } from '../../testing/data.js';
import { withData } from './testing/shared-data.js';
import { buildZip } from './testing/zip-writer.js';
import { listZip, looksLikeZip, readSingleFileZip, readZipEntry } from './zip.js';

const RT_CSV = 'NP6-905-CD_cdr.00012301.0000000000000000.20240329.010211.SPPHLZNP6905_20240329_0100.csv';

function parseCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isMulletError(err) ? err.code : 'not a MulletError';
  }
  return undefined;
}

describe('zip reader', () => {
  it('reads stored and deflated entries, with and without data descriptors', () => {
    const zip = buildZip([
      { name: 'a.txt', data: 'hello', method: 0 },
      { name: 'dir/b.csv', data: 'x,y\n1,2\n'.repeat(100), method: 8 },
      { name: 'c.csv', data: 'late sizes', method: 8, dataDescriptor: true },
    ], 'archive comment');
    expect(looksLikeZip(zip)).toBe(true);
    const entries = listZip(zip);
    expect(entries.map((e) => [e.name, e.method])).toEqual([['a.txt', 0], ['dir/b.csv', 8], ['c.csv', 8]]);
    expect(entries[1]?.uncompressedSize).toBe(800);
    expect(entries[1]?.compressedSize).toBeLessThan(800);
    const text = entries.map((e) => readZipEntry(zip, e).toString('utf8'));
    expect(text).toEqual(['hello', 'x,y\n1,2\n'.repeat(100), 'late sizes']);
  });

  it('returns the one file of a single-file archive and refuses more or none', () => {
    expect(readSingleFileZip(buildZip([{ name: 'r.csv', data: 'a\n' }])).data.toString()).toBe('a\n');
    expect(parseCode(() => readSingleFileZip(buildZip([{ name: 'a', data: '1' }, { name: 'b', data: '2' }])))).toBe('PARSE');
    expect(parseCode(() => readSingleFileZip(buildZip([])))).toBe('PARSE');
  });

  it('rejects non-zips, corrupt data and unsupported methods as PARSE errors', () => {
    const html = Buffer.from('<html><body>Error Downloading Content</body></html>');
    expect(looksLikeZip(html)).toBe(false);
    expect(parseCode(() => listZip(html))).toBe('PARSE');
    const zip = buildZip([{ name: 'a.csv', data: 'abcdefgh'.repeat(50), method: 0 }]);
    const corrupt = Buffer.from(zip);
    corrupt[40] = (corrupt[40] ?? 0) ^ 0xff; // inside the stored data: CRC must catch it
    expect(parseCode(() => readSingleFileZip(corrupt))).toBe('PARSE');
    const bzip2 = Buffer.from(zip);
    const cd = bzip2.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bzip2.writeUInt16LE(12, cd + 10);
    expect(parseCode(() => readSingleFileZip(bzip2))).toBe('PARSE');
    expect(parseCode(() => listZip(zip.subarray(0, zip.length - 5)))).toBe('PARSE');
  });
});

describe.skipIf(skipWithoutSharedData)(withData('zip reader on a real ERCOT CSV'), () => {
  it('round-trips the recorded NP6-905-CD posting byte for byte', () => {
    const csv = readFileSync(sharedFile('samples', 'ercot', RT_CSV));
    const zip = buildZip([{ name: RT_CSV.replace(/^NP6-905-CD_/, ''), data: csv }]);
    const { name, data } = readSingleFileZip(zip);
    expect(name).toBe('cdr.00012301.0000000000000000.20240329.010211.SPPHLZNP6905_20240329_0100.csv');
    expect(data.equals(csv)).toBe(true);
    expect(zip.length).toBeLessThan(csv.length / 3);
  });
});
