/**
 * ASIC spec tables as CSV — the format of ../shared/data/asic_miner_specs.csv:
 * `manufacturer,model,hashrate_ths,power_w[,efficiency_j_per_th,release_year,release_month,cooling,source]`.
 * Rows become catalog ASICs validated like YAML entries (efficiency within 3 % of W / TH/s).
 * The same model listed twice with another hashrate (spec revisions) keeps both, the later ones
 * named "MODEL (N TH/s)"; exact repeats are skipped. Every problem names file:line:column.
 */
import { badInput } from '../core/errors.js';
import { CsvText } from '../core/csv.js';
import { AsicInputSchema, asicFromInput, modelKey } from './catalog.js';
import type { Asic } from './types.js';

const REQUIRED = ['manufacturer', 'model', 'hashrate_ths', 'power_w'] as const;
const OPTIONAL = ['efficiency_j_per_th', 'release_year', 'release_month', 'cooling', 'source'] as const;

export interface CsvAsics {
  asics: Asic[];
  /** What was renamed, skipped or ignored, for the user. */
  notes: string[];
}

/**
 * Drops rows that restate a built-in model (hashrate and power within 3 %): the built-in entry keeps
 * its manufacturer source and power-target curve. Rows that differ still override it.
 */
export function withoutBuiltInRepeats(rows: readonly Asic[], builtIn: readonly Asic[]): { asics: Asic[]; kept: string[] } {
  const byKey = new Map(builtIn.map((a) => [modelKey(a.model), a]));
  const near = (x: number, y: number) => Math.abs(x - y) / y <= 0.03;
  const kept: string[] = [];
  const asics = rows.filter((r) => {
    const b = byKey.get(modelKey(r.model));
    if (b && near(r.hashrateThs, b.hashrateThs) && near(r.powerW, b.powerW)) {
      kept.push(b.model);
      return false;
    }
    return true;
  });
  return { asics, kept };
}

/** Parses an ASIC spec CSV named `file`. */
export function asicsFromCsv(text: string, file: string): CsvAsics {
  const csv = new CsvText(file, text);
  const missing = REQUIRED.filter((c) => !csv.header.includes(c));
  if (missing.length > 0) {
    throw badInput(
      `not an ASIC spec table: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}. Expected a header ${[...REQUIRED, ...OPTIONAL].join(',')} ` +
        `(the first four required; the format of asic_miner_specs.csv), or a YAML/JSON catalog with asics: / gpus: lists; got '${csv.header.join(',')}'`,
      `${file}:1`,
    );
  }
  const notes: string[] = [];
  const ignored = csv.header.filter((h) => !(REQUIRED as readonly string[]).includes(h) && !(OPTIONAL as readonly string[]).includes(h));
  if (ignored.length) notes.push(`${file}: ignored column${ignored.length > 1 ? 's' : ''} ${ignored.join(', ')}`);
  const col = (name: string) => csv.header.indexOf(name);
  const seen = new Map<string, number>();
  const asics: Asic[] = [];
  csv.forEachRow((_, row) => {
    const at = (name: string) => col(name);
    const raw = (name: string) => (at(name) >= 0 ? row.raw(at(name)) : '');
    const model = raw('model');
    if (model === '') row.fail(at('model'), 'model must not be empty');
    const hashrateThs = row.num(at('hashrate_ths'));
    const powerW = row.num(at('power_w'));
    const eff = at('efficiency_j_per_th') >= 0 ? row.optNum(at('efficiency_j_per_th')) : undefined;
    const year = at('release_year') >= 0 && raw('release_year') !== '' ? row.int(at('release_year')) : undefined;
    const coolingText = raw('cooling').toLowerCase();
    const cooling = coolingText === '' ? 'air' : coolingText === 'hydro' || coolingText === 'immersion' || coolingText === 'air' ? coolingText : row.fail(at('cooling'), `expected Air, Hydro or Immersion, got '${raw('cooling')}'`);
    let name = model;
    const key = modelKey(model);
    const prev = seen.get(key);
    if (prev !== undefined) {
      if (prev === hashrateThs) {
        notes.push(`${file}:${row.line}: '${model}' repeats an earlier row: skipped`);
        return;
      }
      name = `${model} (${hashrateThs} TH/s)`;
      notes.push(`${file}:${row.line}: '${model}' is listed again with ${hashrateThs} TH/s: kept as '${name}'`);
    } else seen.set(key, hashrateThs);
    const parsed = AsicInputSchema.safeParse({
      manufacturer: raw('manufacturer') || 'unknown',
      model: name,
      hashrateThs,
      powerW,
      ...(eff === undefined ? {} : { efficiencyJPerTh: eff }),
      ...(year === undefined ? {} : { releaseYear: year }),
      cooling,
      ...(raw('source') === '' ? {} : { source: raw('source') }),
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = String(issue?.path[0] ?? '');
      const column = { hashrateThs: 'hashrate_ths', powerW: 'power_w', efficiencyJPerTh: 'efficiency_j_per_th', releaseYear: 'release_year' }[field] ?? 'model';
      return row.fail(Math.max(0, at(column)), issue?.message ?? 'invalid row');
    }
    asics.push(asicFromInput(parsed.data, `${file}:${row.line}`));
  });
  if (asics.length === 0) throw badInput('no ASIC rows after the header', `${file}:2`);
  return { asics, notes };
}
