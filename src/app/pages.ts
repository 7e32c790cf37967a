/**
 * The console's analyst and strategy pages' dependencies, for every command that serves the
 * console (`mullet serve`, `mullet ops`): the industry facts and the back-test / plan jobs over a
 * market store, jobs naming the site and portfolio files of one directory. Plain options, so each
 * command maps its own flags and config keys onto them (and names them in errors).
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { MulletError } from '../core/errors.js';
import type { Clock } from '../core/time.js';
import { SqliteIndustryStore } from '../industry/store.js';
import type { PagesDeps } from '../server/console/app.js';
import { childRunner } from '../strategy/child-runner.js';
import { StrategyInputs } from '../strategy/inputs.js';
import { StrategyJobs } from '../strategy/jobs.js';

export interface PagesOptions {
  /** Market store the pages read (industry facts; market data of back-tests); given: it must exist. */
  dataDb?: string;
  /** When `dataDb` is not given: used if it exists, else the pages say how to provide one. */
  defaultDataDb: string;
  /** Site and portfolio YAML files jobs may name; given: it must exist. */
  strategyDir?: string;
  defaultStrategyDir: string;
  /** Relative paths are resolved from here. */
  cwd: string;
  /** Where each option came from, for errors: e.g. `--data-db` or `ops.yaml: console.dataDb`. */
  where: { dataDb: string; strategyDir: string };
  /** Wall clock of the jobs and the store's import times (never a replay's). */
  clock: Clock;
  log: (line: string) => void;
}

export interface OpenPages {
  deps: PagesDeps;
  /** Stops running jobs and closes the store; idempotent. */
  close(): Promise<void>;
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** Opens the pages' store and job runner; throws NOT_FOUND (located) for a given path that is not there. */
export function openPages(o: PagesOptions): OpenPages {
  const file = o.dataDb === ':memory:' ? ':memory:' : resolve(o.cwd, o.dataDb ?? o.defaultDataDb);
  const dir = resolve(o.cwd, o.strategyDir ?? o.defaultStrategyDir);
  // A typo in a given path must fail at start, not leave a page empty.
  if (o.strategyDir !== undefined && !isDir(dir)) throw new MulletError('NOT_FOUND', `strategy directory ${dir} does not exist (site and portfolio YAML files for console jobs)`, { where: o.where.strategyDir });
  if (file !== ':memory:' && !existsSync(file)) {
    if (o.dataDb !== undefined) throw new MulletError('NOT_FOUND', `market store ${file} does not exist (mullet data import … --db ${o.dataDb}; mullet industry import … --db ${o.dataDb})`, { where: o.where.dataDb });
    o.log(`no market store (${file}; ${o.where.dataDb}): the analyst and strategy pages will say how to provide one`);
    return { deps: {}, close: () => Promise.resolve() };
  }
  const industry = SqliteIndustryStore.open(file, o.clock.nowMs());
  let strategy: PagesDeps['strategy'];
  if (isDir(dir)) {
    const inputs = StrategyInputs.scan(dir);
    if (inputs.skipped.length > 0) o.log(`strategy inputs in ${dir}: ${inputs.list.length} site/portfolio file(s); ${inputs.skipped.length} other YAML file(s) not offered to jobs (${inputs.skipped.map((x) => x.split(':')[0]).join(', ')})`);
    strategy = { inputs, jobs: new StrategyJobs({ runner: childRunner({ inputs, dataDb: file }), clock: o.clock, log: o.log }) };
  } else o.log(`no strategy directory ${dir} (${o.where.strategyDir}): back-tests from the console are off`);
  let closed = false;
  return {
    deps: { industry, ...(strategy ? { strategy } : {}) },
    close: async () => {
      if (closed) return;
      closed = true;
      await strategy?.jobs.close();
      await industry.close();
    },
  };
}
