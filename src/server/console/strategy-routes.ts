/**
 * Strategy routes (under /api/v1/strategy): the site and portfolio files a job may name, and
 * back-test / plan jobs — started by operators (`strategy:run`; one at a time, the rest 409),
 * followed by polling, their result JSON and HTML report (a download: it carries its own inline
 * charts, which the console's CSP would not run) open to every reader. Starting and cancelling
 * are writes, so the audit log has who ran what.
 */
import { z } from 'zod';
import { MulletError } from '../../core/errors.js';
import type { StrategyInputs } from '../../strategy/inputs.js';
import type { StrategyJobs } from '../../strategy/jobs.js';
import { jobSpecSchema, jobViewSchema, MAX_JOB_PATHS, MAX_JOB_WINDOW_DAYS, POLICY_NAMES, type JobSpec } from '../../strategy/spec.js';
import type { Principal } from '../../console/auth-service.js';
import { actorName } from '../../console/auth-service.js';
import { route, type AnyRoute } from './define.js';

export interface StrategyDeps {
  /** Jobs and the files they may name; absent: the routes answer 503 with how to enable them. */
  strategy?: { jobs: StrategyJobs; inputs: StrategyInputs };
}

const READ = { kind: 'permission', permission: 'site:read' } as const;
const RUN = { kind: 'permission', permission: 'strategy:run' } as const;
const idParams = z.object({ id: z.uuid() });

const inputsReplySchema = z.object({
  sites: z.array(z.object({ file: z.string(), title: z.string() })),
  portfolios: z.array(z.object({ file: z.string(), title: z.string() })),
  policies: z.array(z.string()),
  maxWindowDays: z.number().int(),
  maxPaths: z.number().int(),
});

function need(d: StrategyDeps): { jobs: StrategyJobs; inputs: StrategyInputs } {
  if (!d.strategy) throw new MulletError('NO_DATA', 'strategy jobs are not enabled on this server: start it with --data-db FILE (the market store the runs read)');
  return d.strategy;
}

export function strategyRoutes(d: StrategyDeps): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/strategy/inputs',
      operationId: 'strategy.inputs',
      summary: 'The site and portfolio files a job may name, the policies, and the bounds of a console job',
      tag: 'strategy',
      access: READ,
      replies: { 200: { description: 'inputs', schema: inputsReplySchema }, 503: { description: 'strategy jobs not enabled' } },
      handler: ({ c }) => {
        const { inputs } = need(d);
        const pick = (k: 'site' | 'portfolio') => inputs.list.filter((i) => i.kind === k).map((i) => ({ file: i.file, title: i.title }));
        return c.json({ sites: pick('site'), portfolios: pick('portfolio'), policies: [...POLICY_NAMES], maxWindowDays: MAX_JOB_WINDOW_DAYS, maxPaths: MAX_JOB_PATHS });
      },
    }),
    route({
      method: 'get',
      path: '/strategy/jobs',
      operationId: 'strategy.jobs',
      summary: 'Recent jobs, newest first',
      tag: 'strategy',
      access: READ,
      replies: { 200: { description: 'jobs', schema: z.object({ jobs: z.array(jobViewSchema) }) } },
      handler: ({ c }) => c.json({ jobs: need(d).jobs.list() }),
    }),
    route<Record<string, never>, Record<string, never>, JobSpec>({
      method: 'post',
      path: '/strategy/jobs',
      operationId: 'strategy.start',
      summary: 'Start a back-test or a plan (runs in a child process; poll the job for progress)',
      description: `One job at a time (409 while one runs). A back-test covers at most ${MAX_JOB_WINDOW_DAYS} days, a plan at most ${MAX_JOB_PATHS} paths; files are named from GET /strategy/inputs.`,
      tag: 'strategy',
      access: RUN,
      body: jobSpecSchema,
      replies: { 202: { description: 'started', schema: jobViewSchema }, 409: { description: 'a job is already running' }, 404: { description: 'no such site or portfolio file' } },
      handler: ({ c, body, principal, audit }) => {
        const { jobs, inputs } = need(d);
        audit.detail = body;
        // Refuse an unknown file before anything starts (the runner resolves it again).
        if (body.kind === 'backtest') inputs.file('site', body.site);
        else inputs.file('portfolio', body.portfolio);
        const job = jobs.submit(body, actorName(principal as Principal));
        audit.target = job.id;
        audit.correlationId = job.id;
        return c.json(job, 202);
      },
    }),
    route<{ id: string }>({
      method: 'get',
      path: '/strategy/jobs/:id',
      operationId: 'strategy.job',
      summary: "A job's state and progress",
      tag: 'strategy',
      access: READ,
      params: idParams,
      replies: { 200: { description: 'the job', schema: jobViewSchema }, 404: { description: 'no such job' } },
      handler: ({ c, params }) => c.json(need(d).jobs.get(params.id)),
    }),
    route<{ id: string }>({
      method: 'get',
      path: '/strategy/jobs/:id/result',
      operationId: 'strategy.result',
      summary: "A finished job's result: the CLI's --json document (back-test summary by policy, or the plan)",
      tag: 'strategy',
      access: READ,
      params: idParams,
      replies: { 200: { description: 'the result document', schema: z.record(z.string(), z.unknown()) }, 404: { description: 'no such job, or not done' } },
      handler: ({ c, params }) => c.json(need(d).jobs.result(params.id) as Record<string, unknown>),
    }),
    route<{ id: string }>({
      method: 'get',
      path: '/strategy/jobs/:id/report',
      operationId: 'strategy.report',
      summary: "A finished job's self-contained HTML report, as a download",
      tag: 'strategy',
      access: READ,
      params: idParams,
      replies: { 200: { description: 'the HTML report (attachment)', contentType: 'text/html' }, 404: { description: 'no such job, or no report' } },
      handler: ({ c, params }) => c.body(need(d).jobs.reportHtml(params.id), 200, { 'content-type': 'text/html; charset=utf-8', 'content-disposition': `attachment; filename="mullet-${params.id.slice(0, 8)}.html"` }),
    }),
    route<{ id: string }>({
      method: 'delete',
      path: '/strategy/jobs/:id',
      operationId: 'strategy.cancel',
      summary: 'Cancel a running job (its process is killed)',
      tag: 'strategy',
      access: RUN,
      params: idParams,
      replies: { 200: { description: 'the job', schema: jobViewSchema }, 404: { description: 'no such job' } },
      handler: ({ c, params, audit }) => {
        audit.target = params.id;
        audit.correlationId = params.id;
        return c.json(need(d).jobs.cancel(params.id));
      },
    }),
  ];
}
