/** Reads the Chart.js UMD bundle from node_modules, to inline it into self-contained reports. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MulletError } from '../core/errors.js';

/** Text of chart.js/dist/chart.umd.js (the package exports only its ESM/CJS entry, so resolve beside it). */
export async function readChartJsSource(): Promise<string> {
  const require = createRequire(import.meta.url);
  try {
    const entry = require.resolve('chart.js');
    return await readFile(path.join(path.dirname(entry), 'chart.umd.js'), 'utf8');
  } catch (err) {
    throw new MulletError('IO', `cannot read the Chart.js bundle (chart.js/dist/chart.umd.js): ${err instanceof Error ? err.message : String(err)}`, { cause: err, transient: false });
  }
}
