/**
 * Deals page (`#/deals`): the published miner → AI-tenant deals with their implied USD/kW-month, and
 * a proposal (MW, term, first-year rate or total, escalator, kind) valued and ranked among the deals of
 * its kind — level and PV-level rate, contract NPV per MW, the landlord's IRR on the conversion — the
 * same numbers as `mullet deals --propose-*` (GET /api/v1/deals, /api/v1/deals/proposal; readers).
 */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type Me } from '../api.js';

interface Deal {
  id: string;
  miner: string;
  tenant: string;
  kind: string;
  itMW: number;
  termYears: number;
  announced: string;
  source: string;
  usdPerKwMonth: number;
  firstYearUsdPerKwMonth: number;
  totalValueUsd: number;
}
interface Comparison {
  peers: number;
  peersBelow: number;
  percentile: number | null;
  medianPeerUsdPerKwMonth: number | null;
  vsMedianUsdPerKwMonth: number | null;
}
interface Proposal {
  levelUsdPerKwMonth: number;
  pvLevelUsdPerKwMonth: number;
  totalValueUsd: number;
  contractNpvUsdPerMw: number;
  discountRatePct: number;
  conversion: { landlordIrrPct: number | null; paybackYears: number | null };
  comparison: Comparison;
  comparisonNormalised: Comparison;
}

const f = (v: number | null, d = 1): string => (v === null ? 'n/a' : v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const rank = (c: Comparison): string => (c.peers === 0 ? 'no published deals of this kind' : `above ${c.peersBelow} of ${c.peers} (${f(c.percentile, 0)} %); median ${f(c.medianPeerUsdPerKwMonth)} USD/kW-month`);

export function DealsPage(_p: { me: Me }) {
  const [deals, setDeals] = useState<Deal[] | null>(null);
  const [form, setForm] = useState({ itMW: '150', termYears: '10', usdPerKwMonth: '140', escalatorPct: '3', kind: 'lease' });
  const [result, setResult] = useState<Proposal | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    call<{ deals: Deal[] }>('GET', '/deals').then((r) => setDeals(r.deals), (e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);
  const submit = (ev: Event) => {
    ev.preventDefault();
    const q = new URLSearchParams(form).toString();
    call<Proposal>('GET', `/deals/proposal?${q}`).then(
      (r) => {
        setResult(r);
        setError(null);
      },
      (e: unknown) => setError(e instanceof ApiError ? e.message : String(e)),
    );
  };
  const field = (name: keyof typeof form, label: string) =>
    h('label', null, label, ' ', h('input', { name, value: form[name], onInput: (e: Event) => setForm({ ...form, [name]: (e.target as HTMLInputElement).value }) }));
  return h(
    'main',
    { 'data-testid': 'deals-page' },
    h('h1', null, 'Deals: published leases and your proposal'),
    h(
      'form',
      { onSubmit: submit, 'data-testid': 'proposal-form' },
      field('itMW', 'MW of critical IT'),
      field('termYears', 'term (years)'),
      field('usdPerKwMonth', 'first-year USD/kW-month'),
      field('escalatorPct', 'escalator %/yr'),
      h('label', null, 'kind ', h('select', { name: 'kind', value: form.kind, onChange: (e: Event) => setForm({ ...form, kind: (e.target as HTMLSelectElement).value }) }, h('option', { value: 'lease' }, 'lease'), h('option', { value: 'gpu-cloud' }, 'gpu-cloud'))),
      h('button', { type: 'submit' }, 'Value and rank'),
    ),
    error ? h('p', { class: 'error', role: 'alert' }, error) : null,
    result
      ? h(
          'section',
          { 'data-testid': 'proposal-result' },
          h('p', null, `Level rate ${f(result.levelUsdPerKwMonth)} USD/kW-month: ${rank(result.comparison)}.`),
          h('p', null, `PV-level rate ${f(result.pvLevelUsdPerKwMonth)} USD/kW-month at ${f(result.discountRatePct)} %/yr: ${rank(result.comparisonNormalised)}.`),
          h('p', null, `Total ${f(result.totalValueUsd / 1e9, 3)} B USD; contract NPV ${f(result.contractNpvUsdPerMw / 1e6, 2)} M USD per MW; landlord IRR ${result.conversion.landlordIrrPct === null ? 'n/a' : `${f(result.conversion.landlordIrrPct)} %/yr`}, payback ${result.conversion.paybackYears === null ? 'not within the term' : `${f(result.conversion.paybackYears)} years`}.`),
        )
      : null,
    deals
      ? h(
          'table',
          { 'data-testid': 'deals-table' },
          h('thead', null, h('tr', null, ['announced', 'miner', 'tenant', 'kind', 'IT MW', 'years', 'level USD/kW-month', 'first-year USD/kW-month', 'source'].map((x) => h('th', { key: x }, x)))),
          h(
            'tbody',
            null,
            [...deals]
              .sort((a, b) => b.usdPerKwMonth - a.usdPerKwMonth)
              .map((d) => h('tr', { key: d.id }, [d.announced, d.miner, d.tenant, d.kind, f(d.itMW, 0), f(d.termYears, 0), f(d.usdPerKwMonth), f(d.firstYearUsdPerKwMonth)].map((c, i) => h('td', { key: i }, c)).concat(h('td', { key: 's' }, d.source.startsWith('http') ? h('a', { href: d.source, target: '_blank', rel: 'noopener noreferrer' }, 'source') : d.source)))),
          ),
        )
      : null,
  );
}
