/**
 * Lease price conversions between the units the AI-compute market quotes.
 *
 * Conventions (see README.md): a month is 730 h (8760 / 12), a year is 8760 h, a kW-month is one kW
 * of critical IT capacity for one such month. "IT" energy is what the servers draw; "meter" energy
 * is what the site imports, i.e. IT × PUE. A price per MWh at the meter is therefore the IT price
 * divided by PUE (the same revenue spread over more metered energy).
 */
import { badInput } from '../core/errors.js';

export const HOURS_PER_YEAR = 8760;

/**
 * Default of a powered-shell / colocation lease's energy terms, the same in the planner
 * (`contracts[].powerPassThrough`) and the site model (`ai[].powerPassThrough`): true = the tenant
 * pays the energy its hall draws at cost (and, in the site model, its share of the 4CP transmission
 * charge), so the landlord's margin is the rent; false = the landlord pays it out of the rent.
 */
export const LEASE_POWER_PASS_THROUGH_DEFAULT = true;
export const MONTHS_PER_YEAR = 12;
/** Hours in the lease market's standard month: 8760 / 12. */
export const HOURS_PER_MONTH = HOURS_PER_YEAR / MONTHS_PER_YEAR;
export const KW_PER_MW = 1000;

function finite(value: number, name: string): number {
  if (!Number.isFinite(value)) throw badInput(`must be a finite number, got ${value}`, name);
  return value;
}

function checkPue(pue: number): number {
  finite(pue, 'pue');
  if (pue < 1) throw badInput(`PUE must be >= 1 (facility energy / IT energy), got ${pue}`, 'pue');
  return pue;
}

/** USD per kW-month of critical IT → USD per MWh of IT energy at full load (× 1000 / 730). */
export function usdPerMWhItFromUsdPerKwMonth(usdPerKwMonth: number): number {
  return (finite(usdPerKwMonth, 'usdPerKwMonth') * KW_PER_MW) / HOURS_PER_MONTH;
}

/** USD per MWh of IT energy → USD per kW-month of critical IT (× 730 / 1000). */
export function usdPerKwMonthFromUsdPerMWhIt(usdPerMWhIt: number): number {
  return (finite(usdPerMWhIt, 'usdPerMWhIt') * HOURS_PER_MONTH) / KW_PER_MW;
}

/** USD per MWh of IT energy → USD per MWh imported at the meter (÷ PUE). */
export function usdPerMWhMeterFromUsdPerMWhIt(usdPerMWhIt: number, pue: number): number {
  return finite(usdPerMWhIt, 'usdPerMWhIt') / checkPue(pue);
}

/** USD per MWh at the meter → USD per MWh of IT energy (× PUE). */
export function usdPerMWhItFromUsdPerMWhMeter(usdPerMWhMeter: number, pue: number): number {
  return finite(usdPerMWhMeter, 'usdPerMWhMeter') * checkPue(pue);
}

/** USD per kW-month of critical IT → USD per MWh imported at the meter (× 1000 / 730 / PUE). */
export function usdPerMWhMeterFromUsdPerKwMonth(usdPerKwMonth: number, pue: number): number {
  return usdPerMWhMeterFromUsdPerMWhIt(usdPerMWhItFromUsdPerKwMonth(usdPerKwMonth), pue);
}

/** USD per MWh at the meter → USD per kW-month of critical IT (× PUE × 730 / 1000). */
export function usdPerKwMonthFromUsdPerMWhMeter(usdPerMWhMeter: number, pue: number): number {
  return usdPerKwMonthFromUsdPerMWhIt(usdPerMWhItFromUsdPerMWhMeter(usdPerMWhMeter, pue));
}

/** USD per kW-month of critical IT → USD per MW of critical IT per year (× 1000 × 12). */
export function usdPerMwYearFromUsdPerKwMonth(usdPerKwMonth: number): number {
  return finite(usdPerKwMonth, 'usdPerKwMonth') * KW_PER_MW * MONTHS_PER_YEAR;
}

/** USD per MW of critical IT per year → USD per kW-month (÷ 1000 ÷ 12). */
export function usdPerKwMonthFromUsdPerMwYear(usdPerMwYear: number): number {
  return finite(usdPerMwYear, 'usdPerMwYear') / (KW_PER_MW * MONTHS_PER_YEAR);
}
