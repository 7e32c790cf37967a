/**
 * Test-only ERCOT load postings CONSTRUCTED from the documented column lists (NP6-345-CD,
 * NP3-565-CD): ../shared/data has no recorded sample of either. MW values are made up but
 * plausible (a 24-hour shape around 45–60 GW), and each row's zones sum to its TOTAL.
 */
const ZONE_SHARES = [0.26, 0.035, 0.16, 0.022, 0.27, 0.075, 0.145, 0.033];

function mm(date: string): string {
  const [y, m, d] = date.split('-');
  return `${m}/${d}/${y}`;
}

function row(totalMW: number): string[] {
  const zones = ZONE_SHARES.map((s) => Math.round(totalMW * s * 100) / 100);
  const sum = Math.round(zones.reduce((a, b) => a + b, 0) * 100) / 100;
  return [...zones.map(String), String(sum)];
}

/** Hour-ending h of a made-up day: low at night, peak at 17:00. */
export function shapeMW(he: number, baseMW = 45_000): number {
  return Math.round(baseMW + 15_000 * Math.max(0, Math.sin(((he - 5) / 24) * Math.PI * 2 - Math.PI / 2 + Math.PI)) ** 2);
}

/** NP6-345-CD for one operating day, hours ending 1..`hours`. */
export function actualLoadCsv(date: string, hours = 24): string {
  const lines = ['OperDay,HourEnding,COAST,EAST,FAR_WEST,NORTH,NORTH_C,SOUTHERN,SOUTH_C,WEST,TOTAL,DSTFlag'];
  for (let he = 1; he <= hours; he++) lines.push([mm(date), `${String(he).padStart(2, '0')}:00`, ...row(shapeMW(he)), 'N'].join(','));
  return lines.join('\r\n') + '\r\n';
}

/** NP3-565-CD: `days` operating days from `fromDate`, two models per hour, `inUse` the one flagged Y. */
export function forecastLoadCsv(fromDate: string, days = 2, inUse = 'E'): string {
  const lines = ['DeliveryDate,HourEnding,Coast,East,FarWest,North,NorthCentral,SouthCentral,Southern,West,SystemTotal,Model,InUseFlag,DSTFlag'];
  const start = Date.parse(`${fromDate}T00:00:00Z`);
  for (let d = 0; d < days; d++) {
    const date = new Date(start + d * 86_400_000).toISOString().slice(0, 10);
    for (let he = 1; he <= 24; he++) {
      for (const model of ['E', 'M']) {
        const total = shapeMW(he, model === 'E' ? 46_000 : 47_000);
        const [c, e, fw, n, nc, s, sc, w, sum] = row(total);
        // The forecast file orders SouthCentral before Southern (unlike the actual file).
        lines.push([mm(date), `${String(he).padStart(2, '0')}:00`, c, e, fw, n, nc, sc, s, w, sum, model, model === inUse ? 'Y' : 'N', 'N'].join(','));
      }
    }
  }
  return lines.join('\r\n') + '\r\n';
}
