/**
 * The planner's monthly calendar: month t covers [monthStartMs[t], monthStartMs[t + 1]) in UTC.
 * Cash in month t arrives at its end (discount (1 + r)^−(t+1)/12), capex and prepayments at its
 * start ((1 + r)^−t/12), the same conventions as src/compute/contract.ts.
 */
export interface Timeline {
  startMs: number;
  /** Months inside the horizon. */
  months: number;
  /** Months modelled in total: the horizon plus the longest contract tail after it. */
  extendedMonths: number;
  monthStartMs: Float64Array;
  hours: Float64Array;
  seconds: Float64Array;
  /** Calendar month 0–11 of each month. */
  calendarMonth: Uint8Array;
  /** Calendar year of each month. */
  year: Uint16Array;
  /** Discount factor for cash at the end of month t. */
  dfEnd: Float64Array;
  /** Discount factor for cash at the start of month t. */
  dfStart: Float64Array;
  discountRatePerYear: number;
}

/** Builds `extendedMonths` months from `startMs` (a UTC first-of-month). */
export function buildTimeline(startMs: number, months: number, extendedMonths: number, discountRatePerYear: number): Timeline {
  const n = Math.max(months, extendedMonths);
  const monthStartMs = new Float64Array(n + 1);
  const hours = new Float64Array(n);
  const seconds = new Float64Array(n);
  const calendarMonth = new Uint8Array(n);
  const year = new Uint16Array(n);
  const dfEnd = new Float64Array(n);
  const dfStart = new Float64Array(n);
  const d0 = new Date(startMs);
  for (let t = 0; t <= n; t++) monthStartMs[t] = Date.UTC(d0.getUTCFullYear(), d0.getUTCMonth() + t, 1);
  const base = 1 + discountRatePerYear;
  for (let t = 0; t < n; t++) {
    seconds[t] = ((monthStartMs[t + 1] as number) - (monthStartMs[t] as number)) / 1000;
    hours[t] = (seconds[t] as number) / 3600;
    const d = new Date(monthStartMs[t] as number);
    calendarMonth[t] = d.getUTCMonth();
    year[t] = d.getUTCFullYear();
    dfEnd[t] = Math.pow(base, -(t + 1) / 12);
    dfStart[t] = Math.pow(base, -t / 12);
  }
  return { startMs, months, extendedMonths: n, monthStartMs, hours, seconds, calendarMonth, year, dfEnd, dfStart, discountRatePerYear };
}
