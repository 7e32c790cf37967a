/**
 * ERCOT deployments of grid products for a back-test, from a small CSV the user writes from ERCOT's
 * notices (ECRS / Non-Spin / RRS deployments, EEA and ERS events):
 *
 *   product,start_utc,end_utc,fraction
 *   ECRS,2023-09-06T23:15:00Z,2023-09-07T01:00:00Z,1     ← the whole ECRS award curtailed for 1 h 45 min
 *
 * `fraction` (0..1] is the share of each award deployed. The ledger curtails the awarded MW over the
 * deployment, settles the delivered load and charges what could not drop (src/dispatch/README.md).
 */
import { badInput } from '../core/errors.js';
import { GRID_PRODUCTS } from '../site/grid-products.js';
import type { GridProduct } from '../site/types.js';
import type { AsDeployment } from '../dispatch/types.js';

const HEADER = 'product,start_utc,end_utc,fraction';
const UTC_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$/;
/** A year of 15-minute deployments is far more than ERCOT ever ordered. */
const MAX_ROWS = 35_136;

/** Parses the deployments CSV; BAD_INPUT naming file:line on the first bad cell. */
export function parseDeploymentsCsv(text: string, file: string): AsDeployment[] {
  const lines = text.split(/\r?\n/);
  if ((lines[0] ?? '').trim() !== HEADER) throw badInput(`expected the header '${HEADER}', got '${(lines[0] ?? '').trim().slice(0, 80)}'`, `${file}:1`);
  const out: AsDeployment[] = [];
  lines.forEach((line, i) => {
    if (i === 0 || line.trim() === '') return;
    const where = `${file}:${i + 1}`;
    if (out.length >= MAX_ROWS) throw badInput(`more than ${MAX_ROWS.toLocaleString('en-US')} deployments`, where);
    const [product, start, end, fraction, ...rest] = line.split(',').map((c) => c.trim());
    if (rest.length > 0) throw badInput('expected 4 columns', where);
    if (!(GRID_PRODUCTS as readonly string[]).includes(product ?? '')) throw badInput(`product must be one of ${GRID_PRODUCTS.join(', ')}, got '${product ?? ''}'`, where);
    const ms = (s: string | undefined, what: string) => {
      const v = s !== undefined && UTC_RE.test(s) ? Date.parse(s) : NaN;
      if (!Number.isFinite(v)) throw badInput(`${what} must be a UTC instant like 2023-09-06T23:15:00Z, got '${s ?? ''}'`, where);
      return v;
    };
    const startMs = ms(start, 'start_utc');
    const endMs = ms(end, 'end_utc');
    if (endMs <= startMs) throw badInput('end_utc must be after start_utc', where);
    const f = Number(fraction);
    if (fraction === undefined || fraction === '' || !Number.isFinite(f) || f <= 0 || f > 1) throw badInput(`fraction must be in (0, 1], got '${fraction ?? ''}'`, where);
    out.push({ product: product as GridProduct, startMs, endMs, fraction: f });
  });
  return out;
}
