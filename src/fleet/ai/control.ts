/**
 * The AI load's actuators, as the agent sees them: one small interface (like the miners'
 * capabilities) whatever is behind it — a GPU server's BMC over DMTF Redfish, or the tenant's power
 * manager taking a feed-level load target. Power in W on the device (IT side); the agent converts
 * to MW at the meter with the load's PUE.
 */
import type { CallOptions } from '../protocols/call.js';

export interface PowerLimitRangeW {
  /** Lowest limit the device accepts, W. */
  minW: number;
  /** Highest limit (its nameplate), W. */
  maxW: number;
}

export interface AiPowerControl {
  /** Stable id (inventory), for logs and the state store. */
  readonly id: string;
  /** Power the device draws now, W. */
  readPowerW(opts?: CallOptions): Promise<number>;
  /** The limit range the device accepts, W. */
  limitRangeW(opts?: CallOptions): Promise<PowerLimitRangeW>;
  /** Caps the device at `watts` (within the range, else BAD_INPUT before any write); resolves on acceptance. */
  setPowerLimitW(watts: number, opts?: CallOptions): Promise<void>;
  /** Removes the cap (back to the device's default); resolves on acceptance. */
  clearPowerLimit(opts?: CallOptions): Promise<void>;
  /** The limit in force as the device reports it, W; null when none. */
  readPowerLimitW(opts?: CallOptions): Promise<number | null>;
  close(): Promise<void>;
}
