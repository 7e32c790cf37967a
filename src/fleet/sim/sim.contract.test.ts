import { describe, expect, it } from 'vitest';
import { runDriverContract, type ContractTarget } from '../drivers/driver.contract.js';
import { defaultDriverRegistry } from '../drivers/index.js';
import { allocateAddresses } from './cidr.js';
import { scaledClocks } from './clocks.js';
import { FIRMWARES, type FirmwareId } from './firmware.js';
import { DEFAULT_HOST_OPTIONS, SimHost } from './host.js';
import { DEFAULT_MINER_OPTIONS } from './miner.js';
import { findModel } from './models.js';
import { hash32 } from './rng.js';
import { T0, TEST_HTTP_PORT } from './testing/clients.js';

/**
 * Every driver against the simulator, through the one shared contract suite. The sim clock runs
 * 1000× the wall so ramps (tens of seconds of device time) settle within the suite's read-back
 * polling; protocol timers (sessions, tokens, nonces) stay on the wall clock.
 */
const TIME_SCALE = 1000;

/** `name`: the model the driver reports. */
const TARGETS: readonly { firmware: FirmwareId; model: string; cidr: string; name: RegExp }[] = [
  { firmware: 'antminer-stock', model: 's21', cidr: '127.128.1.0/24', name: /^Antminer S21$/ },
  { firmware: 'luxos', model: 's19xp', cidr: '127.128.2.0/24', name: /^Antminer S19 XP$/ },
  { firmware: 'braiins-legacy', model: 's19jpro', cidr: '127.128.3.0/24', name: /^Antminer S19j Pro$/ },
  { firmware: 'whatsminer-v2', model: 'm60s', cidr: '127.128.4.0/24', name: /^M60S_VK40$/ },
];

/** Driver types with no simulated firmware, and why. */
const NOT_SIMULATED: Readonly<Record<string, string>> = {
  vnish: 'VNish (REST API on :80) is not simulated; its contract runs against the recorded replies',
  avalon: 'Canaan Avalon firmware is not simulated; its contract runs against the recorded replies',
};

async function simTarget(firmware: FirmwareId, modelId: string, cidr: string): Promise<ContractTarget> {
  const model = findModel(modelId);
  const [ip] = allocateAddresses(cidr, 1) as [string];
  const host = new SimHost([{ index: 0, ip, firmware, model, seed: hash32(42, FIRMWARES.indexOf(firmware)) }], scaledClocks(T0, Date.now(), TIME_SCALE), {
    ...DEFAULT_HOST_OPTIONS,
    ports: { api: 4028, http: TEST_HTTP_PORT },
    miner: DEFAULT_MINER_OPTIONS,
  });
  await host.start();
  return {
    host: ip,
    ports: firmware === 'antminer-stock' ? { api: 4028, http: TEST_HTTP_PORT } : { api: 4028 },
    creds: firmware === 'whatsminer-v2' ? { password: DEFAULT_MINER_OPTIONS.whatsminerPassword } : { username: 'root', password: 'root' },
    config: { ratedPowerW: model.ratedPowerW, minPowerW: model.minPowerW },
    stateful: true,
    close: () => host.close(),
  };
}

for (const t of TARGETS) {
  runDriverContract(
    t.firmware,
    async () => ({ ...(await simTarget(t.firmware, t.model, t.cidr)), expect: { model: t.name, states: ['mining'], powerW: 'any' } }),
    { label: `${t.firmware} against the simulator` },
  );
}

describe('simulator contract coverage', () => {
  it('every registered driver type is simulated or listed with a reason', () => {
    const simulated = new Set<string>(TARGETS.map((t) => t.firmware));
    const missing = defaultDriverRegistry()
      .types()
      .filter((type) => !simulated.has(type) && NOT_SIMULATED[type] === undefined);
    expect(missing).toEqual([]);
  });
});
