import type { Vendor } from './models.js';

/** The firmwares the simulator serves; each is one protocol family on its real ports. */
export const FIRMWARES = ['antminer-stock', 'luxos', 'braiins-legacy', 'whatsminer-v2'] as const;
export type FirmwareId = (typeof FIRMWARES)[number];

export interface FirmwareProfile {
  readonly id: FirmwareId;
  /** Hardware this firmware runs on (a Whatsminer firmware never runs on an Antminer). */
  readonly vendor: Vendor;
  /** Listening sockets per miner: the cgminer API, plus HTTP for stock Antminer control. */
  readonly ports: readonly ('api' | 'http')[];
  /** From a wake command to full hashrate (sim ms); the first `wakeInitFraction` draws little and hashes nothing. */
  readonly wakeRampMs: number;
  readonly wakeInitFraction: number;
  /** From a new power target to settling on it (sim ms). */
  readonly tuneRampMs: number;
  /** Boot time after a reboot command or a power cycle, before the wake ramp (sim ms). */
  readonly rebootMs: number;
  /** A sleeping miner comes back asleep after a reboot (the work mode is in its saved config). */
  readonly sleepSurvivesReboot: boolean;
}

export const FIRMWARE_PROFILES: Readonly<Record<FirmwareId, FirmwareProfile>> = {
  // Stock bmminer re-initialises every board on wake: minutes, like a cold start.
  'antminer-stock': {
    id: 'antminer-stock',
    vendor: 'bitmain',
    ports: ['api', 'http'],
    wakeRampMs: 180_000,
    wakeInitFraction: 0.3,
    tuneRampMs: 60_000,
    rebootMs: 60_000,
    sleepSurvivesReboot: true,
  },
  // LuxOS docs: wakeup "ramps like a reboot" but sets frequency/voltage directly.
  luxos: {
    id: 'luxos',
    vendor: 'bitmain',
    ports: ['api'],
    wakeRampMs: 120_000,
    wakeInitFraction: 0.2,
    tuneRampMs: 30_000,
    rebootMs: 60_000,
    sleepSurvivesReboot: false,
  },
  // Braiins OS docs: resume returns before the boards are back; their log shows ~10 s.
  'braiins-legacy': {
    id: 'braiins-legacy',
    vendor: 'bitmain',
    ports: ['api'],
    wakeRampMs: 30_000,
    wakeInitFraction: 0.3,
    tuneRampMs: 60_000,
    rebootMs: 60_000,
    sleepSurvivesReboot: false,
  },
  'whatsminer-v2': {
    id: 'whatsminer-v2',
    vendor: 'microbt',
    ports: ['api'],
    wakeRampMs: 120_000,
    wakeInitFraction: 0.25,
    tuneRampMs: 45_000,
    rebootMs: 60_000,
    sleepSurvivesReboot: false,
  },
};

/** Real ports: the cgminer-style API and the stock Antminer web UI (CGI). */
export const DEFAULT_PORTS = { api: 4028, http: 80 } as const;

export function isFirmwareId(s: string): s is FirmwareId {
  return (FIRMWARES as readonly string[]).includes(s);
}
