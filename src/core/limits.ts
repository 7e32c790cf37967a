/**
 * Physical bounds of the quantities users type (CLI flags) and write (site, portfolio, catalog and
 * deal files). Each is wide enough for every real use and tight enough that an absurd value is
 * rejected as bad input (exit 2, naming the flag or path and the allowed range) before it can hang
 * a loop, overflow a timer or come out as NaN/Infinity. Why each value:
 */
export const LIMITS = {
  /** One site's power, MW: 10 GW, twice the largest campus announced (~5 GW). */
  siteMW: 10_000,
  /** Machines in one fleet, and a simulated fleet: 5 M (15 GW of 3 kW machines). */
  fleetMachines: 5_000_000,
  /** Fleets or AI loads in one site file: real sites list a handful of models and tenants. */
  fleetsPerSite: 200,
  /** One machine's hashrate, TH/s: 10 PH/s (the biggest hydro units are ~1 PH/s). */
  machineThs: 10_000,
  /** One machine's power, W: 100 kW (hydro miners draw ~12 kW). */
  machineW: 100_000,
  /** Efficiency, J/TH: 1,000 (an Antminer S9 is ~100). */
  jPerTh: 1_000,
  /** A power price, ±USD/MWh: above every market's cap (ERCOT 5,000; Australia AUD 17,500). */
  priceUsdPerMWh: 20_000,
  /** Hashprice, USD/PH/day: 1,000,000 (the 2025 record low was 35; what-ifs need room, not 1e308). */
  hashpriceUsdPerPhDay: 1_000_000,
  /** BTC price, USD: 100,000,000. */
  btcPriceUsd: 100_000_000,
  /** Network difficulty: 1e20 (10^6 × today's ~1.5e14). */
  difficulty: 1e20,
  /** Network hashrate, EH/s: 1,000,000 (10^3 × today). */
  networkEhs: 1_000_000,
  /** Block height: 100 M (the subsidy is zero from 13.44 M; ~1,900 years of blocks). */
  blockHeight: 100_000_000,
  /** A contract term, years: 50 (compute leases run 5–20). */
  contractYears: 50,
  /** A lease rate, USD/kW-month: 10,000 (powered shells ~100–200; GPU cloud equivalents ~1,000). */
  usdPerKwMonth: 10_000,
  /** A GPU-hour, USD: 1,000 (H100 ~2–3). */
  usdPerGpuHour: 1_000,
  /** Any money total, USD: 1 trillion. */
  usd: 1e12,
  /** A growth or escalation rate, %/yr: −100 (exclusive) to +100. */
  ratePct: 100,
  /** A deadline or period, s: 1 day (Node timers overflow at 24.8 days and fire at once). */
  periodS: 86_400,
  /** Days of simulated or generated time: 100 years. */
  days: 36_600,
  /** A random seed: unsigned 32-bit. */
  seed: 4_294_967_295,
  /** Monte Carlo paths: 100,000 (standard error ~0.3 % of the spread; more is time, not information). */
  paths: 100_000,
  /** Worker threads or processes: 256. */
  workers: 256,
  /** A TCP port. */
  port: 65_535,
} as const;

/** zod `.max(...atMost(LIMITS.siteMW, 'MW'))`: the bound and a message with its unit, 'must be <= 10,000 MW'. */
export function atMost(max: number, unit: string): readonly [number, string] {
  return [max, `must be <= ${max.toLocaleString('en-US')} ${unit}`];
}
