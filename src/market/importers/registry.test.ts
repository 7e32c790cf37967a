import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvText, splitCsvLine } from '../../core/csv.js';
import { FORMATS, isRecognised, openDataFile, parseDataFile } from './registry.js';
import { badInputAt, csv, tmpDir } from './testing/tmp.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());

const NP4_190 = csv('DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice,DSTFlag', '04/11/2025,01:00,HB_WEST, 35.39,N');

/** A minimal one-entry zip (deflated), as ERCOT's MIS serves reports. */
function zipOf(name: string, text: string): Buffer {
  const data = deflateRawSync(Buffer.from(text));
  const nameBuf = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc32(text), 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(text.length, 22);
  local.writeUInt16LE(nameBuf.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc32(text), 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(text.length, 24);
  central.writeUInt16LE(nameBuf.length, 28);
  central.writeUInt32LE(0, 42);
  const centralOffset = local.length + nameBuf.length + data.length;
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(1, 8);
  eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(central.length + nameBuf.length, 12);
  eocd.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, nameBuf, data, central, nameBuf, eocd]);
}

describe('format registry', () => {
  it('has unique ids and headers', () => {
    expect(new Set(FORMATS.map((f) => f.id)).size).toBe(FORMATS.length);
    expect(new Set(FORMATS.map((f) => f.header.join(','))).size).toBe(FORMATS.length);
  });

  it('rejects an unknown header, listing the recognised formats', async () => {
    const e = await badInputAt(() => parseDataFile(tmp.write('mystery.csv', csv('a,b,c', '1,2,3'))), 'mystery.csv:1');
    expect(e.message).toMatch(/unrecognised header 'a,b,c'/);
    for (const f of FORMATS) expect(e.message).toContain(f.id);
    expect(isRecognised('a,b\n1,2')).toBe(false);
    expect(isRecognised(NP4_190)).toBe(true);
  });

  it('reads gzip and single-CSV zip files transparently', async () => {
    const gz = await parseDataFile(tmp.write('dam.csv.gz', gzipSync(NP4_190)));
    expect(gz.batch.prices[0]?.priceUsdPerMWh).toBe(35.39);
    const zip = await parseDataFile(tmp.write('cdr.00012331.DAMSPNP4190_csv.zip', zipOf('DAMSPNP4190.csv', NP4_190)));
    expect(zip.format.id).toBe('ercot-np4-190');
    expect(zip.batch.prices[0]?.priceUsdPerMWh).toBe(35.39);
    await badInputAt(() => parseDataFile(tmp.write('bad.gz', Buffer.from([0x1f, 0x8b, 1, 2, 3]))), 'bad.gz');
    const corrupt = zipOf('x.csv', NP4_190);
    corrupt.writeUInt32LE(0, 14);
    corrupt.writeUInt32LE(0, 30 + 5 + corrupt.readUInt32LE(18) + 16);
    await badInputAt(() => parseDataFile(tmp.write('corrupt.zip', corrupt)), /corrupt\.zip/);
  });

  it('strips a byte-order mark and skips blank lines', async () => {
    const { batch, rows } = await parseDataFile(tmp.write('bom.csv', '\ufeff' + NP4_190 + '\n\n'));
    expect(rows).toBe(1);
    expect(batch.prices).toHaveLength(1);
  });

  it('reports a missing file as NOT_FOUND', async () => {
    await expect(parseDataFile(tmp.dir + '/nope.csv')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('CSV cells', () => {
  it('splits quoted fields', () => {
    expect(splitCsvLine('a,"b,c","d ""e""",')).toEqual(['a', 'b,c', 'd "e"', '']);
  });
  it('parses numbers strictly', () => {
    const text = new CsvText('n.csv', csv('x', ' 35.39', '-1e3', '0x10', 'Infinity', '.5', '1.', ''));
    const got: (number | string)[] = [];
    text.forEachRow((_c, row) => {
      try {
        got.push(row.num(0));
      } catch (err) {
        got.push((err as { where: string }).where);
      }
    });
    expect(got).toEqual([35.39, -1000, 'n.csv:4:1', 'n.csv:5:1', 0.5, 1]);
  });
});

describe('streaming: bounded batches, regular files only, decompression bombs, abort', () => {
  const RT = 'interval_start_utc,interval_start_local,hb_busavg,hb_houston,hb_hubavg,hb_north,hb_pan,hb_south,hb_west';
  /** `n` RT rows from 2024-01-01 00:00 CST, 15 minutes apart (January: CST all month for n ≤ 2976). */
  function rtRows(n: number): string {
    const lines = [RT];
    for (let i = 0; i < n; i++) {
      const ms = Date.UTC(2024, 0, 1, 6) + i * 15 * 60_000;
      const utc = new Date(ms).toISOString().replace('.000Z', 'Z');
      const local = new Date(ms - 6 * 3_600_000).toISOString().slice(0, 19) + '-06:00';
      lines.push(`${utc},${local},${i},1,2,3,4,5,6`);
    }
    return csv(...lines);
  }

  it('yields batches of at most batchRows rows, the last one with the notes; the same records as one batch', async () => {
    const file = tmp.write('rt_stream.csv', rtRows(2500));
    const data = await openDataFile(file);
    expect(data.format?.id).toBe('eia-hubs-wide');
    const sizes: number[] = [];
    const notes: string[] = [];
    for await (const b of data.batches({}, 1000)) {
      sizes.push(b.prices.length);
      notes.push(...b.notes);
    }
    await data.close();
    expect(sizes).toEqual([7000, 7000, 3500]);
    expect(notes).toEqual(['RT 15-min prices (interval read from the row spacing)']);
    expect((await parseDataFile(file)).batch.prices).toHaveLength(17_500);
  });

  it('refuses a FIFO (it would block until a writer appears) and a device, without reading them', async () => {
    const fifo = path.join(tmp.dir, 'pipe.csv');
    execFileSync('mkfifo', [fifo]);
    await expect(openDataFile(fifo)).rejects.toMatchObject({ code: 'BAD_INPUT', where: fifo, message: expect.stringMatching(/is a FIFO \(named pipe\); only regular files are read/) as unknown });
    await expect(openDataFile('/dev/zero')).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/is a character device/) as unknown });
  });

  it('refuses gzip and zip data that expand more than 100× (decompression bombs), before reading it all', async () => {
    // 40 MB of one row deflates ~350×: over the 16 MiB grace, far over 100×. (A table whose rows
    // are only counted, so the test spends its time on the guard, not on parsing.)
    const text = csv('manufacturer,model,hashrate_ths,power_w,efficiency_j_per_th,release_year,release_month,cooling,source') + 'Bitmain,S21,200,3500,17.5,2024,,Air,x\n'.repeat(1_100_000);
    const bombGz = tmp.write('bomb.csv.gz', gzipSync(text, { level: 9 }));
    const bombZip = tmp.write('bomb.zip', zipOf('bomb.csv', text));
    for (const bomb of [bombGz, bombZip]) {
      const data = await openDataFile(bomb);
      const drain = async (): Promise<void> => {
        for await (const b of data.batches()) void b;
      };
      await expect(drain()).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/more than 100× its compressed size.*decompression bomb/) as unknown });
      await data.close();
    }
  });

  it('stops between chunks when the signal aborts (ABORTED)', async () => {
    const file = tmp.write('rt_abort.csv', rtRows(2900));
    const controller = new AbortController();
    const data = await openDataFile(file, file, controller.signal);
    let batches = 0;
    const run = async (): Promise<void> => {
      for await (const b of data.batches({}, 100)) {
        void b;
        if (++batches === 1) controller.abort(new Error('received SIGTERM'));
      }
    };
    await expect(run()).rejects.toMatchObject({ code: 'ABORTED' });
    await data.close();
    expect(batches).toBeLessThan(29);
  });
});
