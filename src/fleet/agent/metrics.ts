/**
 * A small Prometheus registry written by hand (text exposition format 0.0.4): counters, gauges and
 * histograms with labels. Names follow Prometheus conventions: base units in the name (`_seconds`,
 * `_mw` for megawatts), counters end in `_total`.
 */

type Labels = Readonly<Record<string, string>>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function key(labels: Labels): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

/** Prometheus float formatting: +Inf, -Inf, NaN spelled out. */
function num(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  return String(v);
}

interface Metric {
  readonly name: string;
  render(): string[];
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    const cur = this.values.get(k);
    if (cur) cur.value += by;
    else this.values.set(k, { labels, value: by });
  }
  get(labels: Labels = {}): number {
    return this.values.get(key(labels))?.value ?? 0;
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values()) out.push(`${this.name}${labelText(labels)} ${num(value)}`);
    return out;
  }
}

export class Gauge implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  set(value: number, labels: Labels = {}): void {
    this.values.set(key(labels), { labels, value });
  }
  get(labels: Labels = {}): number | undefined {
    return this.values.get(key(labels))?.value;
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const { labels, value } of this.values.values()) out.push(`${this.name}${labelText(labels)} ${num(value)}`);
    return out;
  }
}

interface HistState {
  labels: Labels;
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram implements Metric {
  private readonly values = new Map<string, HistState>();
  readonly buckets: readonly number[];
  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
  ) {
    this.buckets = [...buckets].sort((a, b) => a - b);
  }
  observe(value: number, labels: Labels = {}): void {
    const k = key(labels);
    let s = this.values.get(k);
    if (!s) {
      s = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.values.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= (this.buckets[i] as number)) s.counts[i] = (s.counts[i] as number) + 1;
    s.sum += value;
    s.count++;
  }
  count(labels: Labels = {}): number {
    return this.values.get(key(labels))?.count ?? 0;
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.values.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText(s.labels, ['le', num(b)])} ${s.counts[i] ?? 0}`));
      out.push(`${this.name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];
  private register<T extends Metric>(m: T): T {
    if (this.metrics.some((x) => x.name === m.name)) throw new Error(`metric ${m.name} registered twice`);
    this.metrics.push(m);
    return m;
  }
  counter(name: string, help: string): Counter {
    return this.register(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.register(new Gauge(name, help));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.register(new Histogram(name, help, buckets));
  }
  /** The whole registry in the text exposition format (Content-Type text/plain; version=0.0.4). */
  render(): string {
    return this.metrics.flatMap((m) => m.render()).join('\n') + '\n';
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The agent's metrics (names listed in README.md). */
export function agentMetrics(): {
  registry: MetricsRegistry;
  fleetMW: Gauge;
  fleetMiners: Gauge;
  allowedMW: Gauge;
  projectedSiteMW: Gauge;
  importLimitMW: Gauge;
  safeMode: Gauge;
  commandLatency: Histogram;
  commands: Counter;
  failures: Counter;
  readFailures: Counter;
  tickDuration: Histogram;
  lastTickSeconds: Gauge;
  signals: Counter;
  implausible: Counter;
  brokenPromises: Counter;
  meterOverLimit: Counter;
  alerts: Counter;
  curtailCommands: Counter;
  fleetHashrateThs: Gauge;
  sitePowerMW: Gauge;
  priceUsdPerMWh: Gauge;
  fleetStrike: Gauge;
  curtailedMiners: Gauge;
  curtailedMW: Gauge;
  gridFloorMW: Gauge;
  gridDeployments: Counter;
  gridPenaltyUsd: Counter;
  gridResponseSeconds: Histogram;
} {
  const registry = new MetricsRegistry();
  const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  return {
    registry,
    fleetMW: registry.gauge('mullet_fleet_power_mw', 'Fleet power at the meter by miner state, MW (unknown and unreachable counted at nameplate).'),
    fleetMiners: registry.gauge('mullet_fleet_miners', 'Miners by state.'),
    allowedMW: registry.gauge('mullet_agent_allowed_mining_mw', 'Mining power the agent allows this tick, MW at the meter.'),
    projectedSiteMW: registry.gauge('mullet_agent_projected_site_mw', 'Site power once commands in flight land, MW.'),
    importLimitMW: registry.gauge('mullet_site_import_limit_mw', 'Interconnect import limit, MW.'),
    safeMode: registry.gauge('mullet_agent_safe_mode', '1 while the plan or price feed is stale and the safe mode is in force.'),
    commandLatency: registry.histogram('mullet_agent_command_latency_seconds', 'Latency of one miner command (send to reply), seconds.', latencyBuckets),
    commands: registry.counter('mullet_agent_commands_total', 'Commands sent, by kind and result.'),
    failures: registry.counter('mullet_agent_failures_total', 'Failed miner calls by error code and operation.'),
    readFailures: registry.counter('mullet_agent_read_failures_total', 'Failed telemetry reads by error code.'),
    tickDuration: registry.histogram('mullet_agent_tick_duration_seconds', 'Duration of one read-decide-write-verify tick, seconds.', [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60]),
    lastTickSeconds: registry.gauge('mullet_agent_last_tick_duration_seconds', 'Duration of the last tick, seconds.'),
    signals: registry.counter('mullet_agent_signals_total', 'Curtailment signals received, by kind, source and whether new.'),
    implausible: registry.counter('mullet_agent_implausible_readings_total', 'Readings outside physical bounds, not believed, by source (miner, meter).'),
    brokenPromises: registry.counter('mullet_agent_broken_promises_total', 'Commands a miner acknowledged but was later read not obeying, by kind (observed-over-commanded: still drawing after the grace; relapse: a proven sleep undone).'),
    meterOverLimit: registry.counter('mullet_agent_meter_over_limit_total', 'Meter readings above the import limit between ticks (each one starts a tick at once).'),
    alerts: registry.counter('mullet_agent_alerts_total', 'Alerts raised, by kind (implausible readings, broken promises, failed miners, meter over limit, MQTT drops and refusals).'),
    curtailCommands: registry.counter('mullet_agent_curtail_commands_total', 'Curtailing commands sent (sleep or lower target), by reason (signal, price, plan, import-limit, meter, safe-mode, ...).'),
    fleetHashrateThs: registry.gauge('mullet_fleet_hashrate_ths', 'Fleet hashrate the miners report (believed readings only), TH/s.'),
    sitePowerMW: registry.gauge('mullet_site_power_mw', 'Site power at the revenue meter, MW (NaN without a fresh reading).'),
    priceUsdPerMWh: registry.gauge('mullet_price_usd_per_mwh', 'Energy price in force (price feed or plan interval), USD/MWh (NaN when none).'),
    fleetStrike: registry.gauge('mullet_fleet_strike_usd_per_mwh', "Each site fleet's strike (configured, else break-even at the hashprice), USD/MWh."),
    curtailedMiners: registry.gauge('mullet_fleet_curtailed_miners', 'Miners the agent holds curtailed (asleep or below nameplate), by reason.'),
    curtailedMW: registry.gauge('mullet_fleet_curtailed_mw', 'Mining power the agent holds curtailed (nameplate minus draw), MW at the meter, by reason.'),
    gridFloorMW: registry.gauge('mullet_grid_award_floor_mw', 'Mining MW the active grid awards keep consuming (less what is deployed), MW at the meter.'),
    gridDeployments: registry.counter('mullet_grid_deployments_total', 'Grid deployments judged, by product and result (met, missed, not-judged).'),
    gridPenaltyUsd: registry.counter('mullet_grid_penalty_usd_total', 'Non-performance penalties of missed grid deployments, USD, by product.'),
    gridResponseSeconds: registry.histogram('mullet_grid_response_seconds', 'Grid deployment start to 100 % of its MW reduced, seconds, by product.', [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800]),
  };
}
export type AgentMetrics = ReturnType<typeof agentMetrics>;
