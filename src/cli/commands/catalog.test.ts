import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureIo, type CapturedIo } from '../../testing/cli.js';
import { runCli } from '../run.js';

function capture(cwd = process.cwd()): { io: CapturedIo; out: () => string; err: () => string } {
  const io = captureIo(cwd);
  return { io, out: io.out, err: io.err };
}

const dir = mkdtempSync(path.join(tmpdir(), 'mullet-catalog-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mullet catalog', () => {
  it('lists ASICs and GPUs with units in the headers', async () => {
    const c = capture();
    expect(await runCli(['catalog'], c.io)).toBe(0);
    expect(c.out()).toMatch(/ASICs \(22\)/);
    expect(c.out()).toMatch(/GPUs \(9\)/);
    expect(c.out()).toMatch(/TH\/s +power W +J\/TH/);
    expect(c.out()).toMatch(/Antminer S21 XP Hyd +473\.0 +5,676 +12\.0/);
    expect(c.out()).toMatch(/H100 SXM +700 +575 +1\.275 +80/);
  });

  it('filters by kind as JSON', async () => {
    const c = capture();
    expect(await runCli(['catalog', '--kind', 'gpu', '--json'], c.io)).toBe(0);
    const j = JSON.parse(c.out()) as { asics?: unknown; gpus: { model: string; itKwPerGpu: number }[] };
    expect(j.asics).toBeUndefined();
    expect(j.gpus.find((g) => g.model === 'H100 SXM')?.itKwPerGpu).toBeCloseTo(1.275, 10);
  });

  it('shows one model, found tolerantly, with its efficiency curve', async () => {
    const c = capture();
    expect(await runCli(['catalog', 'antminer s21'], c.io)).toBe(0);
    expect(c.out()).toMatch(/^ASIC Bitmain Antminer S21\n/);
    expect(c.out()).toMatch(/power fraction +power W +J\/TH +TH\/s/);
    const g = capture();
    expect(await runCli(['catalog', 'mi300x', '--json'], g.io)).toBe(0);
    expect(JSON.parse(g.out())).toMatchObject({ kind: 'gpu', model: 'MI300X', powerW: 750 });
  });

  it('exits 2 for an unknown model, listing near matches', async () => {
    const c = capture();
    expect(await runCli(['catalog', 'S21 Ultra'], c.io)).toBe(2);
    expect(c.err()).toMatch(/<model>: unknown ASIC model 'S21 Ultra'; near matches: .*Antminer S21/);
  });

  it('exits 2 for a bad --kind and for a bad catalog file', async () => {
    const k = capture();
    expect(await runCli(['catalog', '--kind', 'fpga'], k.io)).toBe(2);
    writeFileSync(path.join(dir, 'bad.yaml'), 'asics:\n  - model: X\n    hashrateThs: 100\n    powerW: 2000\n    efficiencyJPerTh: 30\n');
    const c = capture(dir);
    expect(await runCli(['catalog', '--file', 'bad.yaml'], c.io)).toBe(2);
    expect(c.err()).toMatch(/bad\.yaml:5: asics\[0\]\.efficiencyJPerTh: 30 J\/TH disagrees with powerW \/ hashrateThs = 20\.00 J\/TH/);
  });

  it('merges a user file and notes the override on stderr', async () => {
    writeFileSync(path.join(dir, 'mine.yaml'), 'asics:\n  - model: Antminer S19 XP\n    hashrateThs: 141\n    powerW: 3031\n');
    const c = capture(dir);
    expect(await runCli(['catalog', 'S19 XP', '--file', 'mine.yaml', '--json'], c.io)).toBe(0);
    expect(JSON.parse(c.out())).toMatchObject({ model: 'Antminer S19 XP', hashrateThs: 141 });
    expect(c.err()).toMatch(/note: user file overrides built-in ASIC 'Antminer S19 XP'/);
  });
});
