/**
 * Fleet discovery: probes every address of the target ranges with a fixed pool of workers.
 * Each worker probes one address at a time and a probe holds at most one socket, so at most
 * `concurrency` sockets are open at any moment whatever the range size (a /16 never runs out of
 * file descriptors). Transient failures (timeouts, resets, truncated replies) are retried once
 * so that a loaded device is not missed; a refused connect is final (nothing listens there).
 */
import { setMaxListeners } from 'node:events';
import type { Clock } from '../../core/time.js';
import { MulletError } from '../../core/errors.js';
import { INVENTORY_VERSION, type Inventory, type InventoryMiner } from '../inventory.js';
import { isMinerError } from '../protocols/errors.js';
import { probeHost, type ProbeOptions } from './identify.js';
import { ipv4ToInt } from '../../core/ipv4.js';
import { addresses, countAddresses, type Ipv4Range } from './targets.js';

export const DEFAULT_SCAN_CONCURRENCY = 256;
/** Upper bound on workers: beyond this, more sockets only add contention. */
export const MAX_SCAN_CONCURRENCY = 4096;

export interface ScanOptions extends Omit<ProbeOptions, 'signal'> {
  ranges: readonly Ipv4Range[];
  /** Workers = the most sockets open at once. */
  concurrency: number;
  clock: Clock;
  signal?: AbortSignal;
  /** Called after each address, with the count done and the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface ScanReport {
  addresses: number;
  found: number;
  /** Answered on the API port but not recognised as a known firmware. */
  unidentified: { host: string; why: string }[];
  /** Something answered but failed even after a retry (timeouts, resets, error replies). */
  failed: { host: string; code: string; fault: string; message: string }[];
  /** Identified, but the telemetry read failed (the miner is in the inventory with nulls). */
  telemetryErrors: { host: string; code: string; message: string }[];
  /** The largest number of probes in flight at once (never above the concurrency). */
  maxInFlight: number;
}

export interface ScanResult {
  inventory: Inventory;
  report: ScanReport;
}

/** Scans the ranges and returns the inventory of identified miners, sorted by address. */
export async function scanFleet(opts: ScanOptions): Promise<ScanResult> {
  const total = countAddresses(opts.ranges);
  const it = addresses(opts.ranges);
  const miners: InventoryMiner[] = [];
  const report: ScanReport = { addresses: total, found: 0, unidentified: [], failed: [], telemetryErrors: [], maxInFlight: 0 };
  let done = 0;
  let inFlight = 0;
  let aborted: unknown = null;
  // Every in-flight exchange listens for abort: one internal signal with no listener cap,
  // chained to the caller's, keeps Node from warning about "leaks" at high concurrency.
  const ctl = new AbortController();
  setMaxListeners(0, ctl.signal);
  const onAbort = (): void => ctl.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = ctl.signal;

  const worker = async (): Promise<void> => {
    for (;;) {
      if (signal.aborted || aborted !== null) return;
      const next = it.next();
      if (next.done) return;
      const host = next.value;
      inFlight++;
      report.maxInFlight = Math.max(report.maxInFlight, inFlight);
      try {
        const out = await probeHost(host, { ...opts, signal });
        switch (out.kind) {
          case 'miner':
            miners.push(out.miner);
            if (out.telemetryError) report.telemetryErrors.push({ host, code: out.telemetryError.code, message: out.telemetryError.message });
            break;
          case 'unidentified':
            report.unidentified.push({ host: out.host, why: out.why });
            break;
          case 'failed':
            report.failed.push({ host: out.host, code: out.error.code, fault: out.error.fault, message: out.error.message });
            break;
          case 'none':
            break;
        }
      } catch (err) {
        if (isMinerError(err) && err.code === 'ABORTED') aborted = err;
        else throw err;
      } finally {
        inFlight--;
        done++;
        opts.onProgress?.(done, total);
      }
    }
  };

  const workers = Math.max(1, Math.min(opts.concurrency, total));
  try {
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (aborted !== null || signal.aborted) {
    throw new MulletError('ABORTED', `scan aborted after ${done} of ${total} addresses`, { cause: aborted ?? signal.reason });
  }
  miners.sort((a, b) => (ipv4ToInt(a.host) ?? 0) - (ipv4ToInt(b.host) ?? 0) || a.id.localeCompare(b.id));
  report.found = miners.length;
  return {
    inventory: { version: INVENTORY_VERSION, scannedAt: new Date(opts.clock.nowMs()).toISOString(), miners },
    report,
  };
}
