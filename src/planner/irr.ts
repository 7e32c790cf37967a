/**
 * IRR and payback of a monthly cash series c[j] at month j (c[j] discounted by (1 + i)^(−j/12)).
 * The IRR exists when the series changes sign (an investment that later pays); otherwise NaN.
 */

function npvAt(c: Float64Array, n: number, annual: number): number {
  const q = Math.pow(1 + annual, -1 / 12);
  let v = 0;
  let d = 1;
  for (let j = 0; j < n; j++) {
    v += (c[j] as number) * d;
    d *= q;
  }
  return v;
}

/** Annual IRR (0.12 = 12 %/yr) of the first `n` months of `c`, or NaN without a root in (−99 %, +1000 %). */
export function irrAnnual(c: Float64Array, n: number = c.length): number {
  let hasNeg = false;
  let hasPos = false;
  for (let j = 0; j < n; j++) {
    const x = c[j] as number;
    if (x < 0) hasNeg = true;
    else if (x > 0) hasPos = true;
  }
  if (!hasNeg || !hasPos) return NaN;
  const grid = [-0.99, -0.5, -0.2, 0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 3, 10];
  let lo = NaN;
  let hi = NaN;
  let flo = NaN;
  let fhi = NaN;
  let prevX = grid[0] as number;
  let prevF = npvAt(c, n, prevX);
  for (let k = 1; k < grid.length; k++) {
    const x = grid[k] as number;
    const f = npvAt(c, n, x);
    if (prevF === 0) return prevX;
    if (Math.sign(f) !== Math.sign(prevF)) {
      lo = prevX;
      hi = x;
      flo = prevF;
      fhi = f;
      break;
    }
    prevX = x;
    prevF = f;
  }
  if (Number.isNaN(lo)) return NaN;
  // Illinois false position: bracketed, superlinear, no derivatives.
  let side = 0;
  for (let it = 0; it < 100; it++) {
    const x = (lo * fhi - hi * flo) / (fhi - flo);
    const f = npvAt(c, n, x);
    if (Math.abs(f) < 1e-9 * (Math.abs(flo) + Math.abs(fhi)) || hi - lo < 1e-12) return x;
    if (Math.sign(f) === Math.sign(fhi)) {
      hi = x;
      fhi = f;
      if (side === 1) flo /= 2;
      side = 1;
    } else {
      lo = x;
      flo = f;
      if (side === -1) fhi /= 2;
      side = -1;
    }
  }
  return (lo + hi) / 2;
}

/**
 * Months from month `from` (the first cash of the investment) until the cumulative cash is back to
 * >= 0 after first going negative (0 if it never goes negative); Infinity if it does not recover
 * within the first `n` months.
 */
export function paybackMonths(c: Float64Array, n: number = c.length, from = 0): number {
  let cum = 0;
  let wentNegative = false;
  for (let j = 0; j < Math.min(n, c.length); j++) {
    cum += c[j] as number;
    if (cum < 0) wentNegative = true;
    else if (wentNegative) return j - Math.min(from, j);
  }
  return wentNegative ? Infinity : 0;
}
