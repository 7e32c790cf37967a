/**
 * Parses one industry CSV file (pure): the header says which kind it is (metrics or deals), every
 * row is validated by its zod schema, and every problem is reported as `file:line column: problem`.
 * A file with any problem yields no rows (the importer stores nothing from it).
 */
import { createHash } from 'node:crypto';
import { badInput } from '../core/errors.js';
import { readCsv } from './csv.js';
import { DEAL_HEADER, dealRowSchema, isAggregate, METRIC_HEADER, metricRowSchema, type DealFact, type MetricFact } from './schema.js';

export type ParsedFile = { kind: 'metrics'; file: string; facts: MetricFact[]; errors: string[] } | { kind: 'deals'; file: string; facts: DealFact[]; errors: string[] };

/** Errors listed at most (a wrong file would otherwise print one per cell). */
export const MAX_ERRORS = 50;

/** The identity of a fact: sha256 of its canonical cells (whitespace-trimmed, in header order). */
export function factId(kind: 'metrics' | 'deals', cells: readonly string[]): string {
  return createHash('sha256')
    .update(JSON.stringify([kind, ...cells.map((c) => c.trim())]))
    .digest('hex')
    .slice(0, 32);
}

/** `file` is the name stored with each fact (a path's base name: the same file re-imported replaces its rows). */
export function parseIndustryCsv(text: string, file: string): ParsedFile {
  const records = readCsv(text, file);
  const head = records[0];
  if (!head) throw badInput('empty file: expected a header row', `${file}:1`);
  const header = head.cells.map((c) => c.trim());
  const same = (want: readonly string[]) => want.length === header.length && want.every((w, i) => header[i] === w);
  const kind = same(METRIC_HEADER) ? 'metrics' : same(DEAL_HEADER) ? 'deals' : null;
  if (kind === null) {
    throw badInput(`not an industry file: the header must be\n  ${METRIC_HEADER.join(',')}  (miner_metrics.csv) or\n  ${DEAL_HEADER.join(',')}  (ai_deals.csv)\ngot\n  ${header.join(',')}`, `${file}:${head.line}`);
  }
  const errors: string[] = [];
  const seen = new Set<string>();
  const note = (msg: string) => {
    if (errors.length < MAX_ERRORS) errors.push(msg);
  };
  const metrics: MetricFact[] = [];
  const deals: DealFact[] = [];
  for (const r of records.slice(1)) {
    if (r.cells.length !== header.length) {
      note(`${file}:${r.line}: expected ${header.length} fields, got ${r.cells.length} (quote cells that hold commas)`);
      continue;
    }
    const obj = Object.fromEntries(header.map((h, i) => [h, r.cells[i] ?? '']));
    const id = factId(kind, r.cells);
    if (seen.has(id)) continue; // an exact duplicate in the same file is the same fact
    seen.add(id);
    const report = (issues: readonly { path: readonly PropertyKey[]; message: string }[]): void => {
      for (const i of issues) {
        const col = i.path.map(String).join('.') || '(row)';
        const got = obj[col];
        note(`${file}:${r.line} ${col}: ${i.message}${typeof got === 'string' ? ` (got '${got.slice(0, 60)}')` : ''}`);
      }
    };
    if (kind === 'metrics') {
      const p = metricRowSchema.safeParse(obj);
      if (p.success) metrics.push({ id, file, line: r.line, row: p.data });
      else report(p.error.issues);
    } else {
      const p = dealRowSchema.safeParse(obj);
      if (p.success) deals.push({ id, file, line: r.line, row: p.data, aggregate: isAggregate(p.data) });
      else report(p.error.issues);
    }
  }
  if (errors.length >= MAX_ERRORS) errors.push(`${file}: (only the first ${MAX_ERRORS} problems are listed)`);
  return kind === 'metrics' ? { kind, file, facts: errors.length ? [] : metrics, errors } : { kind, file, facts: errors.length ? [] : deals, errors };
}
