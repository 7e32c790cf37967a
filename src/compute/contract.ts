/**
 * AI lease / capacity contract valuation (pure). Conventions, also in README.md:
 * - The term is `termYears × 12` contract months; month m (1-based) bills
 *   MW online(m) × 1000 × rate(m) USD, where rate(m) = first-year rate × (1 + escalator)^(contract year − 1).
 * - Given a total value instead of a rate, the first-year rate is solved so the (ramped, escalating)
 *   monthly stream sums exactly to that total; the relation is linear, so it is a division.
 * - Prepayment: prepayPct % of the total is paid at signing (t = 0) and then credited pro rata, i.e.
 *   every monthly payment is reduced by the same prepayPct % of that month's bill. Revenue (what is
 *   billed/recognized per month) is unchanged; only the cash timing moves. Cash sums to the total.
 * - Monthly payments are received at the end of each month (in arrears); NPV discounts month m by
 *   (1 + annual rate)^(−m/12), the prepayment is undiscounted.
 * - Ramp: MW of critical IT online per month; before it completes, billing is on the MW online.
 */
import { badInput } from '../core/errors.js';
import { KW_PER_MW, MONTHS_PER_YEAR, usdPerMWhItFromUsdPerKwMonth } from './lease.js';

/** From contract month `month` (1-based) on, `mw` MW of critical IT are online (and billed). */
export interface RampStep {
  month: number;
  mw: number;
}

export type Ramp =
  | { kind: 'none' }
  /** Month m has min(1, m / months) of the contracted MW online. */
  | { kind: 'linear'; months: number }
  /** Piecewise-constant: 0 MW before the first step. */
  | { kind: 'steps'; steps: readonly RampStep[] };

export interface ContractInput {
  /** Contracted critical IT capacity, MW. */
  itMW: number;
  /** Term in years; termYears × 12 must be a whole number of months. */
  termYears: number;
  /** Exactly one of totalValueUsd / usdPerKwMonth. */
  totalValueUsd?: number;
  /** First-year rate, USD per kW-month of critical IT. */
  usdPerKwMonth?: number;
  /** Annual escalator, percent per contract year (3 = +3 %/yr). Default 0. */
  escalatorPct?: number;
  /** Share of the total value paid at signing, percent (0–100). Default 0. */
  prepayPct?: number;
  ramp?: Ramp;
  /** Annual discount rate as a fraction (0.08 = 8 %/yr). Default 0. */
  discountRatePerYear?: number;
}

export interface ContractMonth {
  /** Contract month, 1-based. */
  month: number;
  /** Contract year, 1-based. */
  year: number;
  mwOnline: number;
  usdPerKwMonth: number;
  /** Billed (recognized) revenue this month, USD. */
  revenueUsd: number;
  /** Cash received at the end of this month (after the prepayment credit), USD. */
  cashUsd: number;
  discountFactor: number;
}

export interface ContractValuation {
  itMW: number;
  termYears: number;
  termMonths: number;
  pricedBy: 'totalValueUsd' | 'usdPerKwMonth';
  escalatorPct: number;
  prepayPct: number;
  discountRatePerYear: number;
  ramp: Ramp;
  /** Month-1 rate, the base the escalator compounds on, USD/kW-month. */
  firstYearUsdPerKwMonth: number;
  /** Level-equivalent rate: total / (MW × 1000 × months), USD/kW-month. */
  usdPerKwMonth: number;
  /** The level-equivalent rate per MWh of IT energy at full load (× 1000 / 730), USD/MWh. */
  usdPerMWhIt: number;
  /** Total / (MW × years), USD per MW-year of critical IT. */
  revenueUsdPerMwYear: number;
  totalValueUsd: number;
  /** Revenue of the first contract year with the full MW online all 12 months, else the run-rate (see firstFullYear). */
  annualRevenueUsd: number;
  /** 1-based contract year behind annualRevenueUsd; null when no such year exists and the run-rate was used. */
  firstFullYear: number | null;
  averageAnnualRevenueUsd: number;
  prepaymentUsd: number;
  npvUsd: number;
  /** Billed revenue per contract year (the last may be partial), USD. */
  revenueByYearUsd: number[];
  /** Cash per contract year, the prepayment counted in year 1, USD. */
  cashByYearUsd: number[];
  months: ContractMonth[];
}

const MW_EPS = 1e-9;

function finiteNumber(v: number, where: string): number {
  if (!Number.isFinite(v)) throw badInput(`must be a finite number, got ${v}`, where);
  return v;
}

/** Whole months in `termYears`; rejects terms that are not a whole number of months. */
export function termMonthsFromYears(termYears: number, where = 'termYears'): number {
  finiteNumber(termYears, where);
  if (termYears <= 0) throw badInput(`must be > 0, got ${termYears}`, where);
  const months = Math.round(termYears * MONTHS_PER_YEAR);
  if (Math.abs(months - termYears * MONTHS_PER_YEAR) > 1e-6 || months < 1) {
    throw badInput(`${termYears} years is not a whole number of months`, where);
  }
  return months;
}

function validateRamp(ramp: Ramp, itMW: number): void {
  switch (ramp.kind) {
    case 'none':
      return;
    case 'linear':
      if (!Number.isSafeInteger(ramp.months) || ramp.months < 0) throw badInput(`ramp months must be a whole number >= 0, got ${ramp.months}`, 'ramp.months');
      return;
    case 'steps': {
      if (ramp.steps.length === 0) throw badInput('needs at least one step', 'ramp.steps');
      let prev = 0;
      ramp.steps.forEach((s, i) => {
        if (!Number.isSafeInteger(s.month) || s.month < 1) throw badInput(`month must be a whole number >= 1, got ${s.month}`, `ramp.steps[${i}].month`);
        if (s.month <= prev) throw badInput('months must increase strictly', `ramp.steps[${i}].month`);
        finiteNumber(s.mw, `ramp.steps[${i}].mw`);
        if (s.mw < 0 || s.mw > itMW + MW_EPS) throw badInput(`mw must be within 0..${itMW} (the contracted MW), got ${s.mw}`, `ramp.steps[${i}].mw`);
        prev = s.month;
      });
      return;
    }
  }
}

/** MW of critical IT online in contract month `month` (1-based). */
export function mwOnlineInMonth(ramp: Ramp, itMW: number, month: number): number {
  switch (ramp.kind) {
    case 'none':
      return itMW;
    case 'linear':
      return ramp.months <= 0 ? itMW : itMW * Math.min(1, month / ramp.months);
    case 'steps': {
      let mw = 0;
      for (const s of ramp.steps) if (s.month <= month) mw = s.mw;
      return mw;
    }
  }
}

/** Values a capacity contract: cash flows by month and year, implied rates, first full year, NPV. */
export function valueContract(input: ContractInput): ContractValuation {
  const itMW = finiteNumber(input.itMW, 'itMW');
  if (itMW <= 0) throw badInput(`must be > 0, got ${itMW}`, 'itMW');
  const termMonths = termMonthsFromYears(input.termYears);
  const hasTotal = input.totalValueUsd !== undefined;
  const hasRate = input.usdPerKwMonth !== undefined;
  if (hasTotal === hasRate) {
    throw badInput(`give exactly one of totalValueUsd or usdPerKwMonth (got ${hasTotal ? 'both' : 'neither'})`, 'pricing');
  }
  const escalatorPct = finiteNumber(input.escalatorPct ?? 0, 'escalatorPct');
  if (escalatorPct <= -100) throw badInput(`must be > -100, got ${escalatorPct}`, 'escalatorPct');
  const prepayPct = finiteNumber(input.prepayPct ?? 0, 'prepayPct');
  if (prepayPct < 0 || prepayPct > 100) throw badInput(`must be within 0..100 %, got ${prepayPct}`, 'prepayPct');
  const discountRatePerYear = finiteNumber(input.discountRatePerYear ?? 0, 'discountRatePerYear');
  if (discountRatePerYear <= -1) throw badInput(`must be > -1 (a fraction per year), got ${discountRatePerYear}`, 'discountRatePerYear');
  const ramp = input.ramp ?? { kind: 'none' };
  validateRamp(ramp, itMW);

  const escalation = 1 + escalatorPct / 100;
  const mwByMonth: number[] = [];
  const escByMonth: number[] = [];
  let billedKwMonthsWeighted = 0; // Σ kW online × escalation factor: total = base rate × this
  for (let m = 1; m <= termMonths; m++) {
    const mw = mwOnlineInMonth(ramp, itMW, m);
    const esc = escalation ** Math.floor((m - 1) / MONTHS_PER_YEAR);
    mwByMonth.push(mw);
    escByMonth.push(esc);
    billedKwMonthsWeighted += mw * KW_PER_MW * esc;
  }

  let firstYearUsdPerKwMonth: number;
  if (input.totalValueUsd !== undefined) {
    const total = finiteNumber(input.totalValueUsd, 'totalValueUsd');
    if (total <= 0) throw badInput(`must be > 0, got ${total}`, 'totalValueUsd');
    if (billedKwMonthsWeighted <= 0) throw badInput('the ramp never brings any MW online within the term, so no rate can earn the total', 'ramp');
    firstYearUsdPerKwMonth = total / billedKwMonthsWeighted;
  } else {
    firstYearUsdPerKwMonth = finiteNumber(input.usdPerKwMonth as number, 'usdPerKwMonth');
    if (firstYearUsdPerKwMonth <= 0) throw badInput(`must be > 0, got ${firstYearUsdPerKwMonth}`, 'usdPerKwMonth');
  }

  const keep = 1 - prepayPct / 100;
  const years = Math.ceil(termMonths / MONTHS_PER_YEAR);
  const revenueByYearUsd = new Array<number>(years).fill(0);
  const cashByYearUsd = new Array<number>(years).fill(0);
  const months: ContractMonth[] = [];
  let totalValueUsd = 0;
  let pvMonthly = 0;
  for (let m = 1; m <= termMonths; m++) {
    const mw = mwByMonth[m - 1] as number;
    const rate = firstYearUsdPerKwMonth * (escByMonth[m - 1] as number);
    const revenueUsd = mw * KW_PER_MW * rate;
    const cashUsd = revenueUsd * keep;
    const discountFactor = (1 + discountRatePerYear) ** (-m / MONTHS_PER_YEAR);
    const year = Math.floor((m - 1) / MONTHS_PER_YEAR) + 1;
    months.push({ month: m, year, mwOnline: mw, usdPerKwMonth: rate, revenueUsd, cashUsd, discountFactor });
    totalValueUsd += revenueUsd;
    pvMonthly += cashUsd * discountFactor;
    revenueByYearUsd[year - 1] = (revenueByYearUsd[year - 1] as number) + revenueUsd;
    cashByYearUsd[year - 1] = (cashByYearUsd[year - 1] as number) + cashUsd;
  }
  if (input.totalValueUsd !== undefined) totalValueUsd = input.totalValueUsd; // exact by construction; avoid float drift
  const prepaymentUsd = (totalValueUsd * prepayPct) / 100;
  if (years > 0) cashByYearUsd[0] = (cashByYearUsd[0] as number) + prepaymentUsd;

  let firstFullYear: number | null = null;
  for (let y = 1; y * MONTHS_PER_YEAR <= termMonths; y++) {
    const slice = mwByMonth.slice((y - 1) * MONTHS_PER_YEAR, y * MONTHS_PER_YEAR);
    if (slice.every((mw) => mw >= itMW - MW_EPS)) {
      firstFullYear = y;
      break;
    }
  }
  let annualRevenueUsd: number;
  if (firstFullYear !== null) {
    annualRevenueUsd = revenueByYearUsd[firstFullYear - 1] as number;
  } else {
    // No complete full-capacity year inside the term: annualize the rate of the first full-MW month (or the last month).
    const fullIdx = mwByMonth.findIndex((mw) => mw >= itMW - MW_EPS);
    const idx = fullIdx >= 0 ? fullIdx : termMonths - 1;
    annualRevenueUsd = itMW * KW_PER_MW * MONTHS_PER_YEAR * firstYearUsdPerKwMonth * (escByMonth[idx] as number);
  }

  const usdPerKwMonth = totalValueUsd / (itMW * KW_PER_MW * termMonths);
  const termYearsExact = termMonths / MONTHS_PER_YEAR;
  return {
    itMW,
    termYears: input.termYears,
    termMonths,
    pricedBy: hasTotal ? 'totalValueUsd' : 'usdPerKwMonth',
    escalatorPct,
    prepayPct,
    discountRatePerYear,
    ramp,
    firstYearUsdPerKwMonth,
    usdPerKwMonth,
    usdPerMWhIt: usdPerMWhItFromUsdPerKwMonth(usdPerKwMonth),
    revenueUsdPerMwYear: totalValueUsd / (itMW * termYearsExact),
    totalValueUsd,
    annualRevenueUsd,
    firstFullYear,
    averageAnnualRevenueUsd: totalValueUsd / termYearsExact,
    prepaymentUsd,
    npvUsd: prepaymentUsd + pvMonthly,
    revenueByYearUsd,
    cashByYearUsd,
    months,
  };
}
