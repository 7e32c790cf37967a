/**
 * The site and portfolio files a console job may name: the YAML files of one directory the server
 * was given (`--strategy-dir`, default `examples/`), each classified once by parsing it. A job names
 * a file from this list; anything else is NOT_FOUND — the browser never chooses a path.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describeError, MulletError } from '../core/errors.js';
import { parseSite } from '../site/parse.js';

export interface StrategyInput {
  file: string;
  kind: 'site' | 'portfolio';
  /** The site's name, or the portfolio's sites. */
  title: string;
}

export class StrategyInputs {
  private constructor(
    readonly dir: string,
    readonly list: readonly StrategyInput[],
    readonly skipped: readonly string[],
  ) {}

  /** Reads and classifies every *.yaml / *.yml in `dir` (a file that is neither is skipped, with why). */
  static scan(dir: string): StrategyInputs {
    const list: StrategyInput[] = [];
    const skipped: string[] = [];
    let names: string[];
    try {
      names = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
    } catch (cause) {
      throw new MulletError('NOT_FOUND', 'cannot list the strategy inputs directory', { cause, where: dir });
    }
    for (const file of names) {
      const text = readFileSync(path.join(dir, file), 'utf8');
      try {
        const site = parseSite(text, { file });
        list.push({ file, kind: 'site', title: site.name });
        continue;
      } catch (err) {
        const doc = parseYaml(text) as unknown;
        const sites = doc !== null && typeof doc === 'object' && 'sites' in doc && Array.isArray((doc).sites) ? (doc as { sites: unknown[] }).sites : null;
        if (sites) list.push({ file, kind: 'portfolio', title: `${sites.length} site(s)` });
        else skipped.push(`${file}: ${describeError(err).slice(0, 200)}`);
      }
    }
    return new StrategyInputs(path.resolve(dir), list, skipped);
  }

  /** The absolute path of a listed file of that kind, else NOT_FOUND. */
  file(kind: StrategyInput['kind'], name: string): string {
    const hit = this.list.find((i) => i.file === name && i.kind === kind);
    if (!hit) throw new MulletError('NOT_FOUND', `no ${kind} file '${name}' on this server (see GET /api/v1/strategy/inputs)`, { where: kind });
    return path.join(this.dir, hit.file);
  }
}
