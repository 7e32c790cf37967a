import { describe, expect, it } from 'vitest';
import { captureIo, runCapture } from '../../testing/cli.js';
import { REPO_ROOT } from '../../testing/data.js';

describe('mullet site qse', () => {
  it('prints the controllable-load parameters of the grid-services example', async () => {
    const r = await runCapture(['site', 'qse', '--site', 'examples/west-texas-grid-services.yaml'], captureIo(REPO_ROOT));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/resource\s+kind\s+products\s+max MW\s+ramp MW\/min/);
    expect(r.out).toMatch(/s21\s+fleet\s+RRS ECRS NSPIN/);
    expect(r.out).toMatch(/cloud\s+capped-ai\s+ECRS NSPIN\s/);
    expect(r.out).toMatch(/SB 6/);
    const j = await runCapture(['site', 'qse', '--site', 'examples/west-texas-grid-services.yaml', '--json'], captureIo(REPO_ROOT));
    const doc = JSON.parse(j.out) as { sb6LargeLoad: boolean; resources: { resource: string; products: string[] }[] };
    expect(doc.sb6LargeLoad).toBe(true);
    expect(doc.resources.map((x) => [x.resource, x.products])).toEqual([
      ['s21', ['RRS', 'ECRS', 'NSPIN']],
      ['old', ['ECRS', 'NSPIN', 'ERS-10', 'ERS-30']],
      ['cloud', ['ECRS', 'NSPIN']],
    ]);
  });
});
