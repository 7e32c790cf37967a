/**
 * The analyst's industry routes (under /api/v1/industry): MW by company, revenue mix, contract
 * announcements with implied USD/kW-month, value per MW, and the facts themselves — every figure
 * with its source URL. Read-only, for anyone who may read (`site:read`, any site: industry facts
 * belong to no site). The facts come in by `mullet industry import` (the CLI), never over HTTP.
 */
import { MulletError } from '../../core/errors.js';
import type { Clock } from '../../core/time.js';
import { dealViews, mwByCompany, revenueMix, valuePerMw } from '../../industry/analytics.js';
import type { IndustryStore } from '../../industry/store.js';
import { dealsReplySchema, factsQuerySchema, factsReplySchema, industrySummarySchema, mwReplySchema, revenueMixReplySchema, valuePerMwReplySchema } from '../../industry/views.js';
import type { z } from 'zod';
import { route, type AnyRoute } from './define.js';

export interface IndustryDeps {
  /** The industry facts; absent: every route answers 503 with how to provide them. */
  industry?: IndustryStore;
  clock: Clock;
}

const READ = { kind: 'permission', permission: 'site:read' } as const;
const NONE = 'no industry facts: start the server with --data-db FILE after `mullet industry import ../shared/data/industry --db FILE`';

function storeOf(d: IndustryDeps): IndustryStore {
  if (!d.industry) throw new MulletError('NO_DATA', NONE);
  return d.industry;
}

export function industryRoutes(d: IndustryDeps): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/industry/summary',
      operationId: 'industry.summary',
      summary: 'Imported industry files (rows, when) and the companies they cover',
      tag: 'industry',
      access: READ,
      replies: { 200: { description: 'summary', schema: industrySummarySchema }, 503: { description: 'no industry store configured' } },
      handler: async ({ c }) => {
        const s = storeOf(d);
        const [files, metrics, deals] = await Promise.all([s.files(), s.metrics(), s.deals()]);
        const companies = [...new Set([...metrics.map((m) => m.row.company), ...deals.map((x) => x.row.miner)])].sort();
        return c.json({ files: files.map((f) => ({ file: f.file, kind: f.kind, rows: f.rows, importedAt: new Date(f.importedAtMs).toISOString() })), companies });
      },
    }),
    route({
      method: 'get',
      path: '/industry/mw',
      operationId: 'industry.mw',
      summary: 'MW by company over time: AI/HPC committed, mining, energized, contracted; AI MW signed, cumulated over deal announcements',
      tag: 'industry',
      access: READ,
      replies: { 200: { description: 'MW facts and signed AI MW', schema: mwReplySchema } },
      handler: async ({ c }) => {
        const s = storeOf(d);
        return c.json(mwByCompany(await s.metrics(), await s.deals()));
      },
    }),
    route({
      method: 'get',
      path: '/industry/revenue-mix',
      operationId: 'industry.revenueMix',
      summary: 'Revenue by segment (Bitcoin mining, AI/HPC, hosting, other) per company and calendar quarter, with the AI share',
      tag: 'industry',
      access: READ,
      replies: { 200: { description: 'revenue mix', schema: revenueMixReplySchema } },
      handler: async ({ c }) => c.json({ rows: revenueMix(await storeOf(d).metrics()) }),
    }),
    route({
      method: 'get',
      path: '/industry/deals',
      operationId: 'industry.deals',
      summary: 'AI contract announcements with the implied USD per kW-month (GPU-cloud flagged as not comparable)',
      tag: 'industry',
      access: READ,
      replies: { 200: { description: 'deals, newest first', schema: dealsReplySchema } },
      handler: async ({ c }) => c.json({ deals: dealViews(await storeOf(d).deals()) }),
    }),
    route({
      method: 'get',
      path: '/industry/value-per-mw',
      operationId: 'industry.valuePerMw',
      summary: 'Market cap or EV per MW, paired with MW facts of the same company and quarter',
      tag: 'industry',
      access: READ,
      replies: { 200: { description: 'value per MW', schema: valuePerMwReplySchema } },
      handler: async ({ c }) => c.json({ rows: valuePerMw(await storeOf(d).metrics()) }),
    }),
    route<Record<string, never>, z.infer<typeof factsQuerySchema>>({
      method: 'get',
      path: '/industry/facts',
      operationId: 'industry.facts',
      summary: 'The metric facts as imported (optionally one company and/or metric), each with its source and file:line',
      tag: 'industry',
      access: READ,
      query: factsQuerySchema,
      replies: { 200: { description: 'facts', schema: factsReplySchema } },
      handler: async ({ c, query }) => {
        const facts = (await storeOf(d).metrics()).filter((f) => (query.company === undefined || f.row.company === query.company) && (query.metric === undefined || f.row.metric === query.metric));
        return c.json({
          facts: facts.map((f) => ({ company: f.row.company, ticker: f.row.ticker, period: f.row.period, metric: f.row.metric, value: f.row.value, unit: f.row.unit, asOf: f.row.as_of, sourceUrl: f.row.source_url, sourceKind: f.row.source_kind, note: f.row.note, file: f.file, line: f.line })),
        });
      },
    }),
  ];
}
