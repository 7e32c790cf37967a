/**
 * Loaders that merge built-in reference data with a user's YAML/JSON file: the hardware catalog
 * and the published-deals list. The only module here that touches the filesystem.
 */
import { PUBLISHED_DEALS } from '../compute/deals-data.js';
import { dealFromInput, dealsFileSchema, mergeDeals, type MergedDeals } from '../compute/deals.js';
import { BUILTIN_CATALOG, CatalogFileSchema, asicFromInput, gpuFromInput, mergeCatalog, type MergeResult } from './catalog.js';
import { asicsFromCsv, withoutBuiltInRepeats } from './csv.js';
import { readDataFile, readText } from './data-file.js';

export interface LoadOptions {
  /** A user's YAML or JSON file to merge in. */
  extraFile?: string | undefined;
  /** Directory relative paths are resolved against (default: process.cwd()). */
  cwd?: string | undefined;
}

/**
 * The built-in catalog merged with `extraFile` (`asics:` / `gpus:` lists). A user model equal to a
 * built-in one (after normalization) replaces it; `overrides` says which.
 */
export async function loadCatalog(options: LoadOptions = {}): Promise<MergeResult> {
  if (options.extraFile === undefined) return { catalog: BUILTIN_CATALOG, overrides: [] };
  if (/\.csv$/i.test(options.extraFile)) {
    // An ASIC spec table such as ../shared/data/asic_miner_specs.csv.
    const rows = asicsFromCsv(await readText(options.extraFile, options.cwd), options.extraFile);
    const { asics, kept } = withoutBuiltInRepeats(rows.asics, BUILTIN_CATALOG.asics);
    const merged = mergeCatalog(BUILTIN_CATALOG, { asics, gpus: [] });
    const same = kept.length ? [`${kept.length} row(s) restate built-in models within 3 % (kept the built-in entries, with their sources and curves): ${kept.join(', ')}`] : [];
    return { catalog: merged.catalog, overrides: [...rows.notes, ...same, ...merged.overrides] };
  }
  const file = await readDataFile(options.extraFile, CatalogFileSchema, options.cwd);
  const source = `user file ${options.extraFile}`;
  return mergeCatalog(BUILTIN_CATALOG, {
    asics: file.asics.map((a) => asicFromInput(a, source)),
    gpus: file.gpus.map((g) => gpuFromInput(g, source)),
  });
}

/** The published deals merged with `extraFile` (a list, or `deals:` list); same id replaces. */
export async function loadDeals(options: LoadOptions = {}): Promise<MergedDeals> {
  if (options.extraFile === undefined) return { deals: [...PUBLISHED_DEALS], overrides: [] };
  const file = await readDataFile(options.extraFile, dealsFileSchema, options.cwd);
  return mergeDeals(PUBLISHED_DEALS, file.deals.map(dealFromInput));
}
