/**
 * Strategy page (`#/strategy`): run a back-test or a plan from the browser. Operators (permission
 * `strategy:run`) start a job — the server runs the CLI's own back-test / plan in a child process,
 * one at a time — and everyone who reads follows its progress (polled), opens the result JSON in
 * the page (net by policy for a back-test) and downloads the HTML report.
 */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, type Me } from '../api.js';

interface Inputs {
  sites: { file: string; title: string }[];
  portfolios: { file: string; title: string }[];
  policies: string[];
  maxWindowDays: number;
  maxPaths: number;
}
interface Job {
  id: string;
  kind: string;
  spec: Record<string, unknown>;
  state: string;
  submittedBy: string;
  submittedAt: string;
  finishedAt: string | null;
  progressPct: number;
  message: string;
  error: string | null;
  hasResult: boolean;
  hasReport: boolean;
}
interface PolicyRow {
  policy?: string;
  netUsd?: number;
  regretVsOptimalUsd?: number;
  revenueUsd?: { mining?: number; ai?: number; powerResale?: number };
}

const POLL_MS = 1_000;
const usd = (v: unknown): string => (typeof v === 'number' ? `${Math.round(v).toLocaleString('en-US')} USD` : '–');

function describeSpec(j: Job): string {
  const s = j.spec;
  return j.kind === 'backtest' ? `${String(s.site)} ${String(s.from)}..${String(s.to)} (${(s.policies as string[] | undefined)?.join(', ') ?? ''})` : `${String(s.portfolio)}, ${String(s.paths)} paths`;
}

function BacktestForm(p: { inputs: Inputs; onStarted: (j: Job) => void }) {
  const [site, setSite] = useState(p.inputs.sites[0]?.file ?? '');
  const [from, setFrom] = useState('2023-08-01');
  const [to, setTo] = useState('2023-08-07');
  const [policies, setPolicies] = useState<string[]>(['strike', 'optimal']);
  const [asPrices, setAsPrices] = useState('store');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      p.onStarted(await call<Job>('POST', '/strategy/jobs', { kind: 'backtest', site, from, to, policies, asPrices }));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const toggle = (x: string) => setPolicies(policies.includes(x) ? policies.filter((y) => y !== x) : [...policies, x]);
  return h(
    'form',
    { 'data-testid': 'backtest-form', onSubmit: (e: Event) => void submit(e) },
    h('h2', null, 'Back-test'),
    h('label', null, 'site ', h('select', { name: 'bt-site', value: site, onChange: (e: Event) => setSite((e.target as HTMLSelectElement).value) }, p.inputs.sites.map((s) => h('option', { value: s.file }, `${s.title} (${s.file})`)))),
    ' ',
    h('label', null, 'from ', h('input', { name: 'bt-from', type: 'date', value: from, onInput: (e: Event) => setFrom((e.target as HTMLInputElement).value) })),
    ' ',
    h('label', null, 'to ', h('input', { name: 'bt-to', type: 'date', value: to, onInput: (e: Event) => setTo((e.target as HTMLInputElement).value) })),
    h(
      'p',
      null,
      'policies (the first checked is the primary): ',
      p.inputs.policies.map((x) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: `bt-policy-${x}`, checked: policies.includes(x), onChange: () => toggle(x) }), ` ${x} `)),
      ' AS prices ',
      h('select', { name: 'bt-as', value: asPrices, onChange: (e: Event) => setAsPrices((e.target as HTMLSelectElement).value) }, h('option', { value: 'store' }, 'store'), h('option', { value: 'synthetic' }, 'SYNTHETIC')),
    ),
    h('button', { type: 'submit' }, 'Run back-test'),
    h('span', { class: 'note' }, ` at most ${p.inputs.maxWindowDays} days; one job at a time`),
    error ? h('p', { class: 'error', role: 'alert' }, error) : null,
  );
}

function PlanForm(p: { inputs: Inputs; onStarted: (j: Job) => void }) {
  const [portfolio, setPortfolio] = useState(p.inputs.portfolios[0]?.file ?? '');
  const [paths, setPaths] = useState('500');
  const [error, setError] = useState<string | null>(null);
  if (p.inputs.portfolios.length === 0) return null;
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      p.onStarted(await call<Job>('POST', '/strategy/jobs', { kind: 'plan', portfolio, paths: Number(paths) }));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return h(
    'form',
    { 'data-testid': 'plan-form', onSubmit: (e: Event) => void submit(e) },
    h('h2', null, 'Plan'),
    h('label', null, 'portfolio ', h('select', { name: 'plan-portfolio', value: portfolio, onChange: (e: Event) => setPortfolio((e.target as HTMLSelectElement).value) }, p.inputs.portfolios.map((s) => h('option', { value: s.file }, `${s.file} (${s.title})`)))),
    ' ',
    h('label', null, 'paths ', h('input', { name: 'plan-paths', type: 'number', min: 100, max: p.inputs.maxPaths, value: paths, onInput: (e: Event) => setPaths((e.target as HTMLInputElement).value) })),
    ' ',
    h('button', { type: 'submit' }, 'Run plan'),
    error ? h('p', { class: 'error', role: 'alert' }, error) : null,
  );
}

/** The result document: a back-test's net by policy in a table, and the whole JSON below. */
function Result(p: { job: Job }) {
  const [doc, setDoc] = useState<Record<string, unknown> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    call<Record<string, unknown>>('GET', `/strategy/jobs/${p.job.id}/result`)
      .then(setDoc)
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [p.job.id]);
  if (error) return h('p', { class: 'error' }, error);
  if (!doc) return h('p', null, 'loading the result…');
  const compare = (Array.isArray(doc.compare) ? doc.compare : [doc]) as PolicyRow[];
  return h(
    'div',
    { 'data-testid': 'job-result' },
    p.job.kind === 'backtest'
      ? h(
          'table',
          null,
          h('thead', null, h('tr', null, ['policy', 'net', 'mining revenue', 'AI revenue', 'power resale', 'regret vs optimal'].map((t) => h('th', null, t)))),
          h(
            'tbody',
            null,
            compare.map((r) => h('tr', null, h('td', null, r.policy ?? '?'), h('td', null, usd(r.netUsd)), h('td', null, usd(r.revenueUsd?.mining)), h('td', null, usd(r.revenueUsd?.ai)), h('td', null, usd(r.revenueUsd?.powerResale)), h('td', null, usd(r.regretVsOptimalUsd)))),
          ),
        )
      : null,
    h('details', { open: p.job.kind !== 'backtest' }, h('summary', null, 'the result JSON'), h('pre', { class: 'json' }, JSON.stringify(doc, null, 2))),
  );
}

export function StrategyPage(p: { me: Me }) {
  const [inputs, setInputs] = useState<Inputs | null>(null);
  const [jobs, setJobs] = useState<Job[]>([]);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const canRun = p.me.permissions.includes('strategy:run');
  useEffect(() => {
    let stop = false;
    call<Inputs>('GET', '/strategy/inputs')
      .then((i) => !stop && setInputs(i))
      .catch((e: unknown) => !stop && setError(e instanceof Error ? e.message : String(e)));
    const load = () =>
      call<{ jobs: Job[] }>('GET', '/strategy/jobs')
        .then((r) => !stop && setJobs(r.jobs))
        .catch(() => undefined);
    void load();
    const t = setInterval(() => void load(), POLL_MS);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, []);
  const started = (j: Job) => setJobs([j, ...jobs.filter((x) => x.id !== j.id)]);
  const cancel = (id: string) => void call<Job>('DELETE', `/strategy/jobs/${id}`).then(started);
  const shown = jobs.find((j) => j.id === open);
  return h(
    'main',
    null,
    error ? h('section', { class: 'wide error', role: 'alert' }, error) : null,
    inputs && canRun ? h('section', { class: 'wide' }, h(BacktestForm, { inputs, onStarted: started }), h(PlanForm, { inputs, onStarted: started })) : null,
    inputs && !canRun ? h('section', { class: 'wide note' }, 'Starting a back-test or a plan needs the strategy:run permission (operators); you can follow and open every job.') : null,
    h(
      'section',
      { class: 'wide', 'data-testid': 'jobs' },
      h('h2', null, 'Jobs'),
      jobs.length === 0
        ? h('p', null, 'no job yet')
        : h(
            'table',
            null,
            h('thead', null, h('tr', null, ['started', 'by', 'what', 'state', 'progress', ''].map((t) => h('th', null, t)))),
            h(
              'tbody',
              null,
              jobs.map((j) =>
                h(
                  'tr',
                  { 'data-testid': `job-${j.state}` },
                  h('td', null, j.submittedAt.replace('T', ' ').slice(0, 19)),
                  h('td', null, j.submittedBy),
                  h('td', null, `${j.kind}: ${describeSpec(j)}`),
                  h('td', null, j.state, j.error ? h('div', { class: 'error note' }, j.error) : null),
                  h('td', null, h('progress', { max: 100, value: j.progressPct }), ` ${j.progressPct.toFixed(0)} %`, h('div', { class: 'note' }, j.message)),
                  h(
                    'td',
                    null,
                    j.hasResult ? h('button', { onClick: () => setOpen(open === j.id ? null : j.id) }, open === j.id ? 'Close' : 'Open result') : null,
                    j.hasReport ? [' ', h('a', { href: `/api/v1/strategy/jobs/${j.id}/report`, download: `mullet-${j.id.slice(0, 8)}.html` }, 'HTML report')] : null,
                    j.state === 'running' && canRun ? h('button', { onClick: () => cancel(j.id) }, 'Cancel') : null,
                  ),
                ),
              ),
            ),
          ),
    ),
    shown && shown.hasResult ? h('section', { class: 'wide' }, h('h2', null, `Result: ${describeSpec(shown)}`), h(Result, { job: shown })) : null,
  );
}
