import { loadDeals } from '../../catalog/load.js';
import { valueContract, type ContractInput, type Ramp, type RampStep } from '../../compute/contract.js';
import { dealMetrics, type Deal, type DealKind, type ProposalComparison } from '../../compute/deals.js';
import { readDataFile } from '../../catalog/data-file.js';
import { PortfolioSchema } from '../../planner/portfolio.js';
import { DEFAULT_CONVERSION, DEFAULT_DISCOUNT_RATE_PCT, evaluateProposal, type ProposalInput, type ProposalResult } from '../../planner/proposal.js';
import { badInput, isMulletError } from '../../core/errors.js';
import { need, opt, type CommandSpec, type ParsedArgs } from '../command.js';
import { fmt, formatTable, printJson } from '../output.js';
import { LIMITS } from '../../core/limits.js';

const FLAG_FOR_FIELD: Readonly<Record<string, string>> = {
  itMW: '--mw',
  termYears: '--years',
  totalValueUsd: '--total-usd',
  usdPerKwMonth: '--usd-per-kw-month',
  escalatorPct: '--escalator-pct',
  prepayPct: '--prepay-pct',
  discountRatePerYear: '--discount-rate',
  ramp: '--ramp-step',
  'ramp.months': '--ramp-months',
};

function rampFromArgs(args: ParsedArgs, itMW: number): Ramp {
  const months = opt.num(args, 'ramp-months');
  const stepsRaw = opt.strs(args, 'ramp-step');
  if (months !== undefined && months > 0 && stepsRaw.length > 0) throw badInput('give --ramp-months or --ramp-step, not both', '--ramp-step');
  if (stepsRaw.length > 0) {
    const steps: RampStep[] = stepsRaw.map((s) => {
      const m = /^\s*(\d+)\s*:\s*([0-9]*\.?[0-9]+)\s*$/.exec(s);
      if (!m) throw badInput(`expected MONTH:MW such as 7:120, got '${s}'`, '--ramp-step');
      const step = { month: Number(m[1]), mw: Number(m[2]) };
      if (step.month > 12 * LIMITS.contractYears) throw badInput(`month ${m[1]} is beyond ${12 * LIMITS.contractYears} (a ${LIMITS.contractYears}-year term)`, '--ramp-step');
      if (step.mw > itMW) throw badInput(`${step.mw} MW exceeds --mw ${itMW}`, '--ramp-step');
      return step;
    });
    return { kind: 'steps', steps };
  }
  if (months !== undefined && months > 0) return { kind: 'linear', months };
  return { kind: 'none' };
}

const value: CommandSpec = {
  path: ['contract', 'value'],
  summary: 'value an AI capacity contract: revenue by year, implied USD/kW-month, first full year, NPV',
  description: [
    'Month m bills MW online × 1000 × rate; the rate steps up by the escalator each contract year.',
    'With --total-usd the first-year rate is solved so the (ramped, escalating) stream sums to the total.',
    'Prepayment: that share of the total is paid at signing and credited pro rata against every monthly bill.',
    'Monthly payments arrive at month end; NPV discounts month m by (1 + rate)^(-m/12).',
    'A month is 730 h (8760/12); --mw is critical IT capacity.',
  ].join('\n'),
  options: {
    mw: { type: 'number', gt: 0, max: LIMITS.siteMW, value: 'MW', unit: 'MW critical IT', description: 'contracted IT capacity', required: true },
    years: { type: 'number', gt: 0, max: LIMITS.contractYears, value: 'N', unit: 'years', description: 'term (a whole number of months)', required: true },
    'total-usd': { type: 'number', gt: 0, max: LIMITS.usd, value: 'USD', unit: 'USD', description: 'total contract value (exactly one of --total-usd / --usd-per-kw-month)' },
    'usd-per-kw-month': { type: 'number', gt: 0, max: LIMITS.usdPerKwMonth, value: 'USD', unit: 'USD/kW-month', description: 'first-year monthly rate per kW of IT (exactly one of --total-usd / --usd-per-kw-month)' },
    'escalator-pct': { type: 'number', gt: -LIMITS.ratePct, max: LIMITS.ratePct, value: 'P', unit: '%/year', description: 'annual rate escalator', default: 0 },
    'prepay-pct': { type: 'number', min: 0, max: 100, value: 'P', unit: '% of total', description: 'share of the total paid at signing', default: 0 },
    'discount-rate': { type: 'number', gt: -1, max: 0.99, rangeHint: 'a fraction per year: 0.08 = 8 %, not a percent', value: 'R', unit: 'fraction/year', description: 'annual discount rate as a fraction (0.08 = 8 %), not a percent', default: 0 },
    'ramp-months': { type: 'int', min: 0, max: 12 * LIMITS.contractYears, value: 'N', unit: 'months', description: 'linear ramp: month m has min(1, m/N) of the MW online (0 = none)', default: 0 },
    'ramp-step': { type: 'string', value: 'MONTH:MW', unit: 'month:MW', description: 'step ramp: from contract month MONTH on, MW are online', multiple: true },
  },
  json: true,
  examples: [
    'mullet contract value --mw 200 --years 5 --total-usd 9.7e9 --prepay-pct 20 --discount-rate 0.08',
    'mullet contract value --mw 245 --years 15 --total-usd 7.0e9 --escalator-pct 3 --json',
    'mullet contract value --mw 100 --years 10 --usd-per-kw-month 140 --ramp-step 1:40 --ramp-step 7:100',
  ],
  run(args, io) {
    const itMW = need(opt.num(args, 'mw'), 'mw');
    const termYears = need(opt.num(args, 'years'), 'years');
    const totalUsd = opt.num(args, 'total-usd');
    const rate = opt.num(args, 'usd-per-kw-month');
    if ((totalUsd === undefined) === (rate === undefined)) {
      throw badInput(`give exactly one of --total-usd or --usd-per-kw-month (got ${totalUsd === undefined ? 'neither' : 'both'})`, '--total-usd');
    }
    const escalatorPct = opt.num(args, 'escalator-pct') ?? 0;
    const prepayPct = opt.num(args, 'prepay-pct') ?? 0;
    const discountRatePerYear = opt.num(args, 'discount-rate') ?? 0;
    const ramp = rampFromArgs(args, itMW);

    const input: ContractInput = {
      itMW,
      termYears,
      escalatorPct,
      prepayPct,
      discountRatePerYear,
      ramp,
      ...(totalUsd !== undefined ? { totalValueUsd: totalUsd } : { usdPerKwMonth: rate as number }),
    };
    let v;
    try {
      v = valueContract(input);
    } catch (err) {
      // The core names its own fields; point at the flag instead.
      if (!isMulletError(err) || err.where === undefined) throw err;
      const step = /^ramp\.steps\[(\d+)\]/.exec(err.where);
      const flag = step ? `--ramp-step #${Number(step[1]) + 1}` : FLAG_FOR_FIELD[err.where];
      throw flag === undefined ? err : badInput(err.message, flag, err);
    }

    if (opt.bool(args, 'json')) {
      printJson(io, {
        inputs: {
          mw: itMW,
          years: termYears,
          totalUsd: totalUsd ?? null,
          usdPerKwMonth: rate ?? null,
          escalatorPct,
          prepayPct,
          discountRate: discountRatePerYear,
          ramp,
        },
        pricedBy: v.pricedBy,
        termMonths: v.termMonths,
        usdPerKwMonth: v.usdPerKwMonth,
        firstYearUsdPerKwMonth: v.firstYearUsdPerKwMonth,
        usdPerMWhIt: v.usdPerMWhIt,
        revenueUsdPerMwYear: v.revenueUsdPerMwYear,
        annualRevenueUsd: v.annualRevenueUsd,
        firstFullYear: v.firstFullYear,
        averageAnnualRevenueUsd: v.averageAnnualRevenueUsd,
        totalValueUsd: v.totalValueUsd,
        prepaymentUsd: v.prepaymentUsd,
        npvUsd: v.npvUsd,
        revenueByYearUsd: v.revenueByYearUsd,
        cashByYearUsd: v.cashByYearUsd,
      });
      return Promise.resolve();
    }

    const rows = v.revenueByYearUsd.map((rev, i) => {
      const ms = v.months.filter((m) => m.year === i + 1);
      const avgMw = ms.reduce((s, m) => s + m.mwOnline, 0) / ms.length;
      const firstRate = ms[0]?.usdPerKwMonth ?? 0;
      return [i + 1, ms.length, fmt(avgMw, 1), fmt(firstRate), fmt(rev, 0), fmt(v.cashByYearUsd[i] ?? 0, 0)];
    });
    const fullYear = v.firstFullYear === null ? 'run-rate: no full-capacity year in the term' : `year ${v.firstFullYear}`;
    io.stdout(
      [
        `Contract: ${fmt(itMW, 1)} MW IT × ${termYears} years (${v.termMonths} months), priced by ${v.pricedBy === 'totalValueUsd' ? 'total value' : 'first-year rate'}`,
        `Total value:            ${fmt(v.totalValueUsd, 0)} USD`,
        `Level-equivalent rate:  ${fmt(v.usdPerKwMonth)} USD/kW-month = ${fmt(v.usdPerMWhIt)} USD/MWh of IT = ${fmt(v.revenueUsdPerMwYear, 0)} USD/MW-year`,
        `First-year rate:        ${fmt(v.firstYearUsdPerKwMonth)} USD/kW-month (escalator ${fmt(escalatorPct)} %/yr)`,
        `First full year:        ${fmt(v.annualRevenueUsd, 0)} USD (${fullYear})`,
        `Prepayment at signing:  ${fmt(v.prepaymentUsd, 0)} USD (${fmt(prepayPct)} %)`,
        `${`NPV @ ${fmt(discountRatePerYear * 100)} %/yr:`.padEnd(24)}${fmt(v.npvUsd, 0)} USD`,
        '',
      ].join('\n') +
        formatTable(['year', 'months', 'avg IT MW', 'rate USD/kW-month', 'revenue USD', 'cash USD'], rows),
    );
    return Promise.resolve();
  },
};

const deals: CommandSpec = {
  path: ['deals'],
  summary: 'published miner → AI-tenant deals and their implied USD/kW-month, USD/MWh of IT, USD/MW-year',
  description:
    'Implied rates assume the full MW billed over the whole term (no ramp). "level" = total / (MW × 1000 × months);\n' +
    '"first-yr" = the first-year rate that the disclosed escalator grows to the total. gpu-cloud deals include the GPUs.',
  options: {
    file: { type: 'string', value: 'FILE', description: 'extra deals (YAML or JSON: a list or `deals:` list) merged with the built-in ones' },
    'propose-mw': { type: 'number', gt: 0, max: LIMITS.siteMW, value: 'X', unit: 'MW of critical IT', description: 'a proposal to compare with the deals: its capacity' },
    'propose-years': { type: 'number', gt: 0, max: LIMITS.contractYears, value: 'N', unit: 'years', description: 'the proposal\'s term' },
    'propose-total-usd': { type: 'number', gt: 0, max: LIMITS.usd, value: 'X', unit: 'USD', description: 'the proposal\'s total contract value' },
    'propose-usd-per-kw-month': { type: 'number', gt: 0, max: LIMITS.usdPerKwMonth, value: 'X', unit: 'USD/kW-month', description: 'or its first-year monthly rate' },
    'propose-escalator-pct': { type: 'number', gt: -LIMITS.ratePct, max: LIMITS.ratePct, value: 'P', unit: '%/yr', description: 'the proposal\'s annual escalator', default: 0 },
    'propose-kind': { type: 'string', value: 'KIND', description: 'lease or gpu-cloud (compared with deals of the same kind)', choices: ['lease', 'gpu-cloud'], default: 'lease' },
    'propose-prepay-pct': { type: 'number', min: 0, max: 100, value: 'P', unit: '% of total', description: 'share of the total paid at signing', default: 0 },
    'propose-discount-rate-pct': { type: 'number', gt: -LIMITS.ratePct, max: 99.99, value: 'R', unit: '%/yr', description: `discount rate for NPV per MW and the PV-level rate (default: the portfolio's, else ${DEFAULT_DISCOUNT_RATE_PCT})` },
    'propose-capex-usd-per-mw': { type: 'number', min: 0, max: LIMITS.usd, value: 'USD', unit: 'USD/MW of IT', description: `conversion capex the landlord pays (default: the portfolio site's, else ${DEFAULT_CONVERSION.capexUsdPerMW.toLocaleString('en-US')})` },
    'propose-lead-time-months': { type: 'int', min: 0, max: 120, value: 'N', unit: 'months', description: `conversion until the rent starts (default: the portfolio site's, else ${DEFAULT_CONVERSION.leadTimeMonths})` },
    'propose-opex-usd-per-mw-year': { type: 'number', min: 0, max: LIMITS.usd, value: 'USD', unit: 'USD/MW-year', description: `landlord opex while the hall runs (default: the portfolio site's, else ${DEFAULT_CONVERSION.opexUsdPerMWYear.toLocaleString('en-US')})` },
    'propose-tenant': { type: 'string', value: 'NAME', description: 'the counterparty (tenant) of the proposal' },
    'propose-backstop': { type: 'string', value: 'TEXT', description: "who guarantees the tenant's payments, e.g. 'Google, 1.4 B USD'" },
    portfolio: { type: 'string', value: 'FILE', description: "take the conversion capex, lead time, opex and discount rate from this portfolio's site (see --portfolio-site)" },
    'portfolio-site': { type: 'string', value: 'NAME', description: 'the portfolio site whose ai: assumptions apply (default: the only site with an ai: section)' },
  },
  json: true,
  examples: [
    'mullet deals',
    'mullet deals --file my-deals.yaml --json',
    'mullet deals --propose-mw 150 --propose-years 10 --propose-total-usd 2.6e9 --propose-escalator-pct 3',
    'mullet deals --propose-mw 200 --propose-years 15 --propose-usd-per-kw-month 140 --propose-escalator-pct 3 --portfolio examples/portfolio-two-texas-sites.yaml --portfolio-site Pecos',
  ],
  async run(args, io) {
    const { deals: list, overrides } = await loadDeals({ extraFile: opt.str(args, 'file'), cwd: io.cwd });
    for (const o of overrides) io.stderr(`note: ${o}\n`);
    const withMetrics = list.map((d) => ({ ...d, metrics: dealMetrics(d) }));
    const proposal = await proposalOf(args, list, io.cwd);
    if (opt.bool(args, 'json')) {
      printJson(io, { deals: withMetrics, overrides, ...(proposal ? { proposal } : {}) });
      return;
    }
    const rows = withMetrics.map((d) => [
      d.backstop === null ? '' : 'yes',
      d.miner,
      d.tenant,
      d.kind,
      fmt(d.itMW, 0),
      fmt(d.termYears, 0),
      fmt(d.metrics.totalValueUsd / 1e9, 2),
      d.escalatorPct === null ? 'n/d' : fmt(d.escalatorPct, 1),
      fmt(d.metrics.usdPerKwMonth),
      fmt(d.metrics.firstYearUsdPerKwMonth),
      fmt(d.metrics.usdPerMWhIt),
      fmt(d.metrics.revenueUsdPerMwYear / 1e6, 2),
      d.announced,
    ]);
    io.stdout(
      formatTable(
        ['backstop', 'miner', 'tenant', 'kind', 'IT MW', 'years', 'total USD bn', 'escal %/yr', 'level USD/kW-mo', 'first-yr USD/kW-mo', 'USD/MWh IT', 'USD M/MW-yr', 'announced'],
        rows,
      ),
    );
    const backed = withMetrics.filter((d) => d.backstop !== null);
    if (backed.length) io.stdout(`\nBackstops: ${backed.map((d) => `${d.miner}–${d.tenant}: ${d.backstop ?? ''}`).join('; ')}\n`);
    if (proposal) io.stdout(proposalText(proposal));
  },
};

const signed = (x: number, d = 2) => `${x >= 0 ? '+' : ''}${fmt(x, d)}`;

function placeText(c: ProposalComparison, kind: string): string {
  if (c.peers === 0) return `no published ${kind} deals to compare with`;
  return `above ${c.peersBelow} of ${c.peers} published ${kind} deals (${fmt(c.percentile, 0)} %); median ${fmt(c.medianPeerUsdPerKwMonth)} USD/kW-month, proposal ${signed(c.vsMedianUsdPerKwMonth)} USD/kW-month vs median`;
}

function proposalText(p: ProposalResult): string {
  const cv = p.conversion;
  return [
    '',
    `Proposal: ${fmt(p.itMW, 0)} MW of critical IT for ${fmt(p.termYears, 0)} years, ${p.kind}; tenant ${p.tenant ?? 'not given'}; backstop ${p.backstop ?? 'none given'}`,
    `  total value:          ${fmt(p.totalValueUsd / 1e9, 3)} B USD; first-year rate ${fmt(p.firstYearUsdPerKwMonth)} USD/kW-month, escalator ${fmt(p.escalatorPct)} %/yr, prepaid ${fmt(p.prepayPct)} %`,
    `  level rate:           ${fmt(p.levelUsdPerKwMonth)} USD/kW-month: ${placeText(p.comparison, p.kind)}`,
    `  PV-level rate:        ${fmt(p.pvLevelUsdPerKwMonth)} USD/kW-month at ${fmt(p.discountRatePct)} %/yr (same present value, level: escalator- and term-normalised): ${placeText(p.comparisonNormalised, p.kind)}`,
    `  contract NPV:         ${fmt(p.contractNpvUsdPerMw / 1e6, 2)} M USD per MW of IT at ${fmt(p.discountRatePct)} %/yr, at signing (rent from delivery after ${cv.leadTimeMonths} months)`,
    `  conversion (${cv.source}): capex ${fmt(cv.capexUsdPerMW / 1e6, 2)} M USD per MW of IT over ${cv.leadTimeMonths} months, opex ${fmt(cv.opexUsdPerMWYear, 0)} USD/MW-year, energy passed through`,
    `  landlord:             IRR ${cv.landlordIrrPct === null ? 'n/a (the cash never turns positive)' : `${fmt(cv.landlordIrrPct, 1)} %/yr`} on the conversion capex; NPV ${signed(cv.landlordNpvUsdPerMw / 1e6)} M USD per MW at ${fmt(p.discountRatePct)} %/yr; payback ${cv.paybackYears === null ? 'not within the term' : `${fmt(cv.paybackYears, 1)} years from first capex`} (no renewal or residual value)`,
    '',
  ].join('\n');
}

/** The proposal given with --propose-* flags, valued and placed among the deals; undefined when absent. */
async function proposalOf(args: ParsedArgs, list: readonly Deal[], cwd: string): Promise<ProposalResult | undefined> {
  const mw = opt.num(args, 'propose-mw');
  const years = opt.num(args, 'propose-years');
  const total = opt.num(args, 'propose-total-usd');
  const rate = opt.num(args, 'propose-usd-per-kw-month');
  if (mw === undefined && years === undefined && total === undefined && rate === undefined) return undefined;
  if (mw === undefined) throw badInput('is required to describe a proposal', '--propose-mw');
  if (years === undefined) throw badInput('is required to describe a proposal', '--propose-years');
  if ((total === undefined) === (rate === undefined)) throw badInput('give exactly one of --propose-total-usd or --propose-usd-per-kw-month', '--propose-total-usd');
  if (mw <= 0) throw badInput(`must be > 0, got ${mw}`, '--propose-mw');
  const kind = (opt.str(args, 'propose-kind') ?? 'lease') as DealKind;
  let conversion: ProposalInput['conversion'] = { ...DEFAULT_CONVERSION, source: 'defaults: ~8–11 M USD/MW midpoint, 18 months, 90,000 USD/MW-year' };
  let discountRatePct = DEFAULT_DISCOUNT_RATE_PCT;
  const pfFile = opt.str(args, 'portfolio');
  if (pfFile !== undefined) {
    const pf = await readDataFile(pfFile, PortfolioSchema, cwd);
    const wanted = opt.str(args, 'portfolio-site');
    const withAi = pf.sites.filter((x) => x.ai !== undefined);
    const site = wanted === undefined ? (withAi.length === 1 ? withAi[0] : undefined) : pf.sites.find((x) => x.name.toLowerCase() === wanted.toLowerCase());
    if (!site) throw badInput(wanted === undefined ? `${withAi.length} sites have an ai: section (${withAi.map((x) => x.name).join(', ')}); name one with --portfolio-site` : `no site '${wanted}' in ${pfFile} (sites: ${pf.sites.map((x) => x.name).join(', ')})`, '--portfolio-site');
    if (!site.ai) throw badInput(`site '${site.name}' has no ai: section (capex, lead time)`, '--portfolio-site');
    conversion = { capexUsdPerMW: site.ai.capexUsdPerMW, leadTimeMonths: site.ai.leadTimeMonths, opexUsdPerMWYear: site.ai.opexUsdPerMWYear, source: `${pfFile}, site ${site.name}` };
    discountRatePct = pf.finance.discountRatePct;
  } else if (opt.str(args, 'portfolio-site') !== undefined) throw badInput('needs --portfolio', '--portfolio-site');
  const flag = (name: string) => opt.num(args, name);
  const capex = flag('propose-capex-usd-per-mw');
  const lead = flag('propose-lead-time-months');
  const opex = flag('propose-opex-usd-per-mw-year');
  if (capex !== undefined || lead !== undefined || opex !== undefined) {
    conversion = { capexUsdPerMW: capex ?? conversion.capexUsdPerMW, leadTimeMonths: lead ?? conversion.leadTimeMonths, opexUsdPerMWYear: opex ?? conversion.opexUsdPerMWYear, source: `flags${pfFile === undefined ? ' and defaults' : ` and ${conversion.source}`}` };
  }
  const dr = flag('propose-discount-rate-pct');
  if (dr !== undefined) discountRatePct = dr;
  const prepay = flag('propose-prepay-pct') ?? 0;
  try {
    return evaluateProposal(
      {
        kind,
        itMW: mw,
        termYears: years,
        ...(total === undefined ? {} : { totalValueUsd: total }),
        ...(rate === undefined ? {} : { usdPerKwMonth: rate }),
        escalatorPct: flag('propose-escalator-pct') ?? 0,
        prepayPct: prepay,
        discountRatePct,
        conversion,
        tenant: opt.str(args, 'propose-tenant') ?? null,
        backstop: opt.str(args, 'propose-backstop') ?? null,
      },
      list,
    );
  } catch (err) {
    if (!isMulletError(err) || err.where === undefined) throw err;
    const flagFor: Record<string, string> = { itMW: '--propose-mw', termYears: '--propose-years', totalValueUsd: '--propose-total-usd', usdPerKwMonth: '--propose-usd-per-kw-month', escalatorPct: '--propose-escalator-pct' };
    const f = flagFor[err.where];
    throw f === undefined ? err : badInput(err.message, f, err);
  }
}

export const contractCommands: readonly CommandSpec[] = [value, deals];
