/** An in-memory AI actuator for agent tests: the power follows a cap at once; every call counted. */
import { MulletError } from '../../../core/errors.js';
import type { AiPowerControl, PowerLimitRangeW } from '../../ai/control.js';

export class FakeAiDevice implements AiPowerControl {
  capW: number | null = null;
  calls = { set: 0, clear: 0, read: 0 };
  /** Acknowledge caps without obeying them. */
  ignoreCaps = false;

  constructor(
    readonly id: string,
    readonly fullW: number,
    readonly minW: number,
  ) {}

  get drawW(): number {
    return this.capW === null || this.ignoreCaps ? this.fullW : Math.min(this.fullW, this.capW);
  }

  readPowerW(): Promise<number> {
    this.calls.read++;
    return Promise.resolve(this.drawW);
  }

  limitRangeW(): Promise<PowerLimitRangeW> {
    return Promise.resolve({ minW: this.minW, maxW: this.fullW });
  }

  readPowerLimitW(): Promise<number | null> {
    return Promise.resolve(this.capW);
  }

  setPowerLimitW(watts: number): Promise<void> {
    if (watts < this.minW || watts > this.fullW) return Promise.reject(new MulletError('BAD_INPUT', `limit ${watts} W outside ${this.minW}–${this.fullW}`));
    this.calls.set++;
    this.capW = watts;
    return Promise.resolve();
  }

  clearPowerLimit(): Promise<void> {
    this.calls.clear++;
    this.capW = null;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** `n` devices of `fullW` each (minimum `minW`). */
export function fakeAiDevices(n: number, fullW: number, minW: number, prefix = 'gpu'): FakeAiDevice[] {
  return Array.from({ length: n }, (_, i) => new FakeAiDevice(`${prefix}-${i}`, fullW, minW));
}
