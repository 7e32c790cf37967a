/**
 * Schedules the user chooses (the portfolio's `schedules:` list or `mullet plan --schedule`),
 * resolved against the model: site and contract names, the start month inside the horizon, the MW
 * that can convert, refresh options by model. Errors name the data path (`schedules[0].sites[1].start`).
 */
import { badInput } from '../core/errors.js';
import type { UserSchedule } from './portfolio.js';
import type { PlanModel } from './resolve.js';
import { NO_CONVERSION, type Schedule, type SiteDecision } from './schedule.js';

export interface NamedSchedule {
  name: string;
  schedule: Schedule;
}

/** Plan month of 'YYYY-MM' (0 = the plan's first month). */
function monthIndex(model: PlanModel, ym: string): number {
  const start = new Date(model.timeline.startMs);
  const [y, m] = ym.split('-').map(Number) as [number, number];
  return (y - start.getUTCFullYear()) * 12 + (m - 1 - start.getUTCMonth());
}

/** Resolves user schedules; `where` prefixes error paths ('schedules' for the file, '--schedule' for flags). */
export function resolveUserSchedules(model: PlanModel, input: readonly UserSchedule[], where = 'schedules'): NamedSchedule[] {
  const names = new Set<string>();
  return input.map((u, i) => {
    const at = `${where}[${i}]`;
    if (names.has(u.name)) throw badInput(`duplicate schedule name '${u.name}'`, `${at}.name`);
    names.add(u.name);
    const schedule: Schedule = model.sites.map(() => ({ ...NO_CONVERSION }));
    const seen = new Set<number>();
    u.sites.forEach((d, j) => {
      const w = `${at}.sites[${j}]`;
      const si = model.sites.findIndex((s) => s.name.toLowerCase() === d.site.toLowerCase());
      if (si < 0) throw badInput(`no site '${d.site}' in the portfolio (sites: ${model.sites.map((s) => s.name).join(', ')})`, `${w}.site`);
      if (seen.has(si)) throw badInput(`site '${d.site}' is listed twice`, `${w}.site`);
      seen.add(si);
      const site = model.sites[si] as PlanModel['sites'][number];
      let refreshMask = 0;
      d.refresh.forEach((r, k) => {
        const ri = site.refresh.findIndex((x) => x.model.toLowerCase() === r.toLowerCase() || x.label.toLowerCase() === r.toLowerCase());
        if (ri < 0) throw badInput(`no refresh option '${r}' at ${site.name} (options: ${site.refresh.map((x) => x.model).join(', ') || 'none'})`, `${w}.refresh[${k}]`);
        refreshMask |= 1 << ri;
      });
      const decision: SiteDecision = { ...NO_CONVERSION, refreshMask };
      if (d.itMW > 0) {
        const ai = site.ai;
        if (!ai || ai.convertibleItMW <= 0) throw badInput(`${site.name} has no convertible MW (no ai: section)`, `${w}.itMW`);
        if (d.itMW > ai.convertibleItMW + 1e-9) throw badInput(`${d.itMW} MW is above the ${ai.convertibleItMW} MW of IT ${site.name} can convert`, `${w}.itMW`);
        if (d.start === undefined) throw badInput('is required when itMW > 0 (the month construction starts, YYYY-MM)', `${w}.start`);
        const month = monthIndex(model, d.start);
        if (month < 0 || month >= model.timeline.months) throw badInput(`${d.start} is outside the plan (${model.timeline.months / 12} years from ${new Date(model.timeline.startMs).toISOString().slice(0, 7)})`, `${w}.start`);
        let contract = 0;
        if (d.contract !== undefined) {
          contract = ai.contracts.findIndex((c) => c.name.toLowerCase() === (d.contract as string).toLowerCase());
          if (contract < 0) throw badInput(`no contract '${d.contract}' at ${site.name} (options: ${ai.contracts.map((c) => c.name).join(', ')})`, `${w}.contract`);
        }
        decision.itMW = d.itMW;
        decision.startMonth = month;
        decision.contract = contract;
      }
      schedule[si] = decision;
    });
    return { name: u.name, schedule };
  });
}

/**
 * Parses `--schedule` flags: `[NAME=]SITE:MW@YYYY-MM[:CONTRACT][;SITE:…]` (MW 0 or `none` keeps
 * mining at that site), into the same shape as the portfolio's `schedules:` entries.
 */
export function parseScheduleFlag(text: string, index: number): UserSchedule {
  const eq = text.indexOf('=');
  const name = eq > 0 ? text.slice(0, eq).trim() : `schedule-${index + 1}`;
  const body = eq > 0 ? text.slice(eq + 1) : text;
  const sites = body
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((part) => {
      const m = /^([^:@]+):\s*(none|\d+(?:\.\d+)?)\s*(?:MW)?\s*(?:@\s*(\d{4}-(?:0[1-9]|1[0-2])))?\s*(?::\s*(.+))?$/i.exec(part);
      if (!m) throw badInput(`expected SITE:MW@YYYY-MM[:CONTRACT] (e.g. Pecos:200@2026-01:hyperscaler-lease), got '${part}'`, `--schedule #${index + 1}`);
      const itMW = m[2]?.toLowerCase() === 'none' ? 0 : Number(m[2]);
      return { site: (m[1] as string).trim(), itMW, ...(m[3] !== undefined ? { start: m[3] } : {}), ...(m[4] !== undefined ? { contract: m[4].trim() } : {}), refresh: [] };
    });
  if (sites.length === 0) throw badInput(`names no site: '${text}'`, `--schedule #${index + 1}`);
  return { name, sites };
}
