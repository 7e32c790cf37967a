/** Small numeric helpers for the scenario models (pure). */

/** Standard normal CDF Φ(x), |error| < 1.5e-7 (Abramowitz & Stegun 7.1.26 on erf). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** E[min(X, cap)] for X lognormal with log-mean mu and log-sd sigma (sigma > 0). */
export function cappedLognormalMean(mu: number, sigma: number, cap: number): number {
  const lc = Math.log(cap);
  return Math.exp(mu + (sigma * sigma) / 2) * normalCdf((lc - mu - sigma * sigma) / sigma) + cap * (1 - normalCdf((lc - mu) / sigma));
}

/**
 * The log-mean mu such that E[min(lognormal(mu, sigma), cap)] equals `target` (bisection).
 * Requires 0 < target < cap; without a cap the answer would be ln(target) − sigma²/2.
 */
export function solveCappedLognormalMu(target: number, sigma: number, cap: number): number {
  if (sigma <= 0) return Math.log(target);
  let lo = Math.log(target) - sigma * sigma / 2 - 1;
  let hi = Math.log(Math.min(target, cap * 0.999999)) + 8 * sigma;
  while (cappedLognormalMean(lo, sigma, cap) > target) lo -= 2;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (cappedLognormalMean(mid, sigma, cap) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** E[min(X, cap)] for X Pareto(xMin, alpha), cap ≥ xMin. */
export function cappedParetoMean(xMin: number, alpha: number, cap: number): number {
  if (Math.abs(alpha - 1) < 1e-12) return xMin + xMin * Math.log(cap / xMin);
  return xMin + (Math.pow(xMin, alpha) * (Math.pow(cap, 1 - alpha) - Math.pow(xMin, 1 - alpha))) / (1 - alpha);
}
